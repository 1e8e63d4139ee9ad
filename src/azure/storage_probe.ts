import { odata, type TableClient } from "@azure/data-tables";
import type { ContainerClient } from "@azure/storage-blob";
import type { QueueClient } from "@azure/storage-queue";
import type { StorageProbe } from "../health/health_check.js";
import { storageCall } from "./storage_call.js";
import type { StorageClients } from "./storage_clients.js";
import { isMissingResource } from "./storage_resource.js";

/** The tables, queue and container the app's services write. */
export interface WrittenResources {
  readonly auditTable: string;
  readonly runsTable: string;
  readonly runsQueue: string;
  readonly resultsContainer: string;
}

interface ProbedResource {
  /** How health names it: `table auditlog`. */
  readonly label: string;
  exists(): Promise<boolean>;
}

// Session partitions are `<principalKey>:<sessionId>`; this one has no colon, so it is never a session's.
const probePartition = "health-probe";

/**
 * Health's view of storage: a real read of each resource the app writes, every time (one page of
 * at most one entity of a partition nobody uses; a queue's or a container's properties), read-only.
 * A resource that no longer exists although an earlier probe saw it is missing: the account was
 * emptied, or the resource deleted, behind the running app (the next write creates it again). One
 * that has never existed yet is not: the first write creates it, as on a new local account.
 */
export class StorageResourcesProbe implements StorageProbe {
  private readonly seen = new Set<string>();

  constructor(private readonly resources: readonly ProbedResource[]) {}

  async missing(): Promise<readonly string[]> {
    const found = await Promise.all(this.resources.map((resource) => resource.exists()));
    const missing: string[] = [];
    this.resources.forEach(({ label }, i) => {
      if (found[i]) this.seen.add(label);
      else if (this.seen.has(label)) missing.push(label);
    });
    return missing;
  }
}

export function createStorageProbe(clients: StorageClients, names: WrittenResources): StorageResourcesProbe {
  return new StorageResourcesProbe([
    tableResource(clients.table(names.auditTable)),
    tableResource(clients.table(names.runsTable)),
    queueResource(clients.queue(names.runsQueue)),
    containerResource(clients.blobContainer(names.resultsContainer)),
  ]);
}

function tableResource(table: TableClient): ProbedResource {
  const dependency = { service: "table", operation: "listEntities", resource: table.tableName, endpoint: table.url } as const;
  return {
    label: `table ${table.tableName}`,
    exists: () =>
      storageCall("table storage is unavailable", dependency, async () => {
        try {
          const pages = table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${probePartition}`, select: ["RowKey"] } });
          for await (const _page of pages.byPage({ maxPageSize: 1 })) break;
          return true;
        } catch (error) {
          if (isMissingResource(error)) return false;
          throw error;
        }
      }),
  };
}

function queueResource(queue: QueueClient): ProbedResource {
  const dependency = { service: "queue", operation: "getProperties", resource: queue.name, endpoint: queue.url } as const;
  return { label: `queue ${queue.name}`, exists: () => storageCall("queue storage is unavailable", dependency, () => queue.exists()) };
}

function containerResource(container: ContainerClient): ProbedResource {
  const dependency = { service: "blob", operation: "getProperties", resource: container.containerName, endpoint: container.url } as const;
  return { label: `container ${container.containerName}`, exists: () => storageCall("blob storage is unavailable", dependency, () => container.exists()) };
}
