import { odata, type TableClient } from "@azure/data-tables";
import { statusOf, storageCall } from "../azure/storage_call.js";
import { isBeingDeleted, isMissingResource, StorageResource } from "../azure/storage_resource.js";
import type { StorageDependency } from "../telemetry/tracing.js";
import type { ApprovalIndex, PendingApproval } from "./approval_index.js";

/**
 * The index of requests in a partition of its own of the runs table (run records are partitioned
 * `<owner>:<runId>`, so `approvals` is no run's): a row `run:<runId>` per request, kept, and a row
 * `pending:<runId>` while it is pending. Both rows of a request are written in one entity-group
 * transaction; the pending ones are read by a range of RowKey, never by a scan of the table.
 */
const partitionKey = "approvals";
const runRow = (runId: string) => `run:${runId}`;
const pendingRow = (runId: string) => `pending:${runId}`;
/** At most this many pending requests are read per list. */
const maxPending = 1000;

interface PendingEntity {
  partitionKey: string;
  rowKey: string;
  owner: string;
  plugin: string;
  requestedAt: string;
  expiresAt: string;
}

export class TableApprovalIndex implements ApprovalIndex {
  private readonly resource: StorageResource;

  constructor(private readonly table: TableClient) {
    this.resource = new StorageResource("table", () => this.table.createTable());
  }

  add(entry: PendingApproval): Promise<"added" | "taken"> {
    const fields = { owner: entry.owner, plugin: entry.plugin, requestedAt: entry.requestedAt, expiresAt: entry.expiresAt };
    return storageCall("the approvals index could not be written", this.dependency("submitTransaction"), () =>
      this.resource.write(async () => {
        try {
          await this.table.submitTransaction([
            ["create", { partitionKey, rowKey: runRow(entry.runId), owner: entry.owner, plugin: entry.plugin }],
            ["create", { partitionKey, rowKey: pendingRow(entry.runId), ...fields }],
          ]);
          return "added";
        } catch (error) {
          if (statusOf(error) === 409 && !isBeingDeleted(error)) return "taken";
          throw error;
        }
      }),
    );
  }

  ownerOf(runId: string): Promise<string | undefined> {
    return storageCall("the approvals index could not be read", this.dependency("getEntity"), async () => {
      await this.resource.ready();
      try {
        return (await this.table.getEntity<{ owner: string }>(partitionKey, runRow(runId))).owner;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  pending(): Promise<PendingApproval[]> {
    return storageCall("the approvals index could not be read", this.dependency("listEntities"), async () => {
      await this.resource.ready();
      const found: PendingApproval[] = [];
      // `;` follows `:`: the range holds exactly the RowKeys that start with `pending:`.
      const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${pendingRow("")} and RowKey lt ${"pending;"}`;
      try {
        for await (const entity of this.table.listEntities<PendingEntity>({ queryOptions: { filter } })) {
          found.push({
            runId: entity.rowKey.slice(pendingRow("").length),
            owner: entity.owner,
            plugin: entity.plugin,
            requestedAt: entity.requestedAt,
            expiresAt: entity.expiresAt,
          });
          if (found.length >= maxPending) break;
        }
      } catch (error) {
        if (!isMissingResource(error)) throw error;
      }
      return found;
    });
  }

  unlist(runId: string): Promise<void> {
    return this.delete(pendingRow(runId));
  }

  async release(runId: string): Promise<void> {
    await this.delete(pendingRow(runId));
    await this.delete(runRow(runId));
  }

  private delete(rowKey: string): Promise<void> {
    return storageCall("the approvals index could not be written", this.dependency("deleteEntity"), async () => {
      try {
        await this.table.deleteEntity(partitionKey, rowKey);
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw error;
      }
    });
  }

  private dependency(operation: string): StorageDependency {
    return { service: "table", operation, resource: this.table.tableName, endpoint: this.table.url };
  }
}
