import { odata, type TableClient } from "@azure/data-tables";
import { statusOf, storageCall } from "../azure/storage_call.js";
import { isBeingDeleted, isMissingResource, StorageResource } from "../azure/storage_resource.js";
import type { StorageDependency } from "../telemetry/tracing.js";
import type { ApprovalIndex, PendingApproval, PendingPlace } from "./approval_index.js";

/**
 * The index of requests in a partition of its own of the runs table (run records are partitioned
 * `<owner>:<runId>`, so `approvals` is no run's): a row `run:<runId>` per request, kept, and a row
 * `pending:<plugin>:<expiresAt>:<runId>` while it is pending. Both rows of a request are written in
 * one entity-group transaction; a plugin's pending ones are read by a range of RowKey, never by a
 * scan of the table. Keyed so, they come by plugin and soonest to expire first (for one plugin's
 * rule, oldest first): a run id, which the requester may choose, orders nothing, and a flood of new
 * requests cannot push older ones, or another plugin's, past the read's bound.
 */
const partitionKey = "approvals";
const runRow = (runId: string) => `run:${runId}`;
/** Plugin names are `[a-z][a-z0-9_]*` and run ids have no `:`, so the parts cannot run into each other. */
const pendingRow = ({ plugin, expiresAt, runId }: PendingPlace) => `pending:${plugin}:${expiresAt}:${runId}`;
/** The RowKey range of a plugin's pending rows: `;` follows `:`. */
const pendingRange = (plugin: string) => ({ from: `pending:${plugin}:`, to: `pending:${plugin};` });
/** At most this many of a plugin's pending requests are read per list. */
const maxPending = 1000;

interface PendingEntity {
  partitionKey: string;
  rowKey: string;
  runId: string;
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
            ["create", { partitionKey, rowKey: pendingRow(entry), runId: entry.runId, ...fields }],
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

  pending(plugin: string): Promise<PendingApproval[]> {
    return storageCall("the approvals index could not be read", this.dependency("listEntities"), async () => {
      await this.resource.ready();
      const found: PendingApproval[] = [];
      const { from, to } = pendingRange(plugin);
      const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${from} and RowKey lt ${to}`;
      try {
        for await (const entity of this.table.listEntities<PendingEntity>({ queryOptions: { filter } })) {
          found.push({
            runId: entity.runId,
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

  unlist(place: PendingPlace): Promise<void> {
    return this.delete(pendingRow(place));
  }

  async release(place: PendingPlace): Promise<void> {
    await this.delete(pendingRow(place));
    await this.delete(runRow(place.runId));
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
