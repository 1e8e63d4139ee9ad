import type { TableClient } from "@azure/data-tables";
import type { Channel } from "../auth/channel.js";
import type { RunRecord, RunState, RunStore, StoredRun } from "./run_record.js";
import { shorten, statusOf, storageCall } from "../azure/storage_call.js";
import { isBeingDeleted, StorageResource } from "../azure/storage_resource.js";
import type { StorageDependency } from "../telemetry/tracing.js";

/** Every run is the one row of its own partition: PartitionKey = `<owner>:<runId>`, RowKey = "run". */
const rowKey = "run";
const maxTextChars = 8000;

interface RunEntity {
  partitionKey: string;
  owner: string;
  runId: string;
  principalId?: string;
  rolesJson?: string;
  messageDigest?: string;
  rowKey: string;
  plugin?: string;
  state: RunState;
  sessionId?: string;
  source: "http" | "queue";
  createdAt: string;
  updatedAt: string;
  attempts: number;
  leaseUntil?: string;
  durationMs?: number;
  resultBlob?: string;
  errorCode?: string;
  errorMessage?: string;
  messageText?: string;
  channel?: Channel;
  approvalExpiresAt?: string;
  approvalInputJson?: string;
  decidedBy?: string;
  decidedAt?: string;
  decisionReason?: string;
}

/**
 * The runs table. A run is claimed with conditional writes, so that two deliveries of the same
 * run cannot both run it: `create` fails with 409 when the row exists, `replace` sends the ETag
 * that was read (`If-Match`) and fails with 412 when another writer got there first. A run is
 * created in a table created again if it went missing (StorageResource); a run read or replaced
 * in a missing table is not there.
 */
export class TableRunStore implements RunStore {
  private readonly resource: StorageResource;

  constructor(private readonly table: TableClient) {
    this.resource = new StorageResource("table", () => this.table.createTable());
  }

  private dependency(operation: string): StorageDependency {
    return { service: "table", operation, resource: this.table.tableName, endpoint: this.table.url };
  }

  get(owner: string, runId: string): Promise<StoredRun | undefined> {
    return storageCall("the runs table could not be read", this.dependency("getEntity"), async () => {
      await this.resource.ready();
      try {
        const entity = await this.table.getEntity<RunEntity>(partitionKeyOf(owner, runId), rowKey);
        return { record: toRecord(entity), etag: entity.etag };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  create(record: RunRecord): Promise<StoredRun | "exists"> {
    const entity = toEntity(record);
    return storageCall("the runs table could not be written", this.dependency("createEntity"), () =>
      this.resource.write(async () => {
        try {
          const response = await this.table.createEntity(entity);
          return { record: toRecord(entity), etag: etagOf(response) };
        } catch (error) {
          if (statusOf(error) === 409 && !isBeingDeleted(error)) return "exists";
          throw error;
        }
      }),
    );
  }

  replace(record: RunRecord, etag: string): Promise<StoredRun | "conflict"> {
    return storageCall("the runs table could not be written", this.dependency("updateEntity"), async () => {
      await this.resource.ready();
      const entity = toEntity(record);
      try {
        const response = await this.table.updateEntity(entity, "Replace", { etag });
        return { record: toRecord(entity), etag: etagOf(response) };
      } catch (error) {
        // 412: changed since it was read; 404: deleted since.
        if (statusOf(error) === 412 || statusOf(error) === 404) return "conflict";
        throw error;
      }
    });
  }

  update(stored: StoredRun, changes: Partial<RunRecord>): Promise<StoredRun | "conflict"> {
    return storageCall("the runs table could not be written", this.dependency("updateEntity"), async () => {
      await this.resource.ready();
      const entity = toEntity({ ...stored.record, ...changes });
      try {
        // Merge with the ETag that was read: of several writers that read the same version, one wins and the others get 412.
        const response = await this.table.updateEntity(entity, "Merge", { etag: stored.etag });
        return { record: toRecord(entity), etag: etagOf(response) };
      } catch (error) {
        if (statusOf(error) === 412 || statusOf(error) === 404) return "conflict";
        throw error;
      }
    });
  }

  remove(owner: string, runId: string, etag: string): Promise<void> {
    return storageCall("the runs table could not be written", this.dependency("deleteEntity"), async () => {
      try {
        await this.table.deleteEntity(partitionKeyOf(owner, runId), rowKey, { etag });
      } catch (error) {
        if (statusOf(error) === 412 || statusOf(error) === 404) return;
        throw error;
      }
    });
  }
}

function partitionKeyOf(owner: string, runId: string): string {
  return `${owner}:${runId}`;
}

function etagOf(response: { etag?: string }): string {
  if (!response.etag) throw new Error("the table service answered without an ETag");
  return response.etag;
}

function toEntity(record: RunRecord): RunEntity {
  const entity: RunEntity = {
    partitionKey: partitionKeyOf(record.owner, record.runId),
    rowKey,
    owner: record.owner,
    runId: record.runId,
    principalId: record.principalId,
    rolesJson: record.roles === undefined ? undefined : JSON.stringify(record.roles),
    messageDigest: record.messageDigest,
    plugin: record.plugin,
    state: record.state,
    sessionId: record.sessionId,
    source: record.source,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    attempts: record.attempts,
    leaseUntil: record.leaseUntil,
    durationMs: record.durationMs,
    resultBlob: record.resultBlob,
    errorCode: record.error?.code,
    errorMessage: record.error === undefined ? undefined : shorten(record.error.message, maxTextChars),
    messageText: record.messageText === undefined ? undefined : shorten(record.messageText, maxTextChars),
    channel: record.channel,
    approvalExpiresAt: record.approval?.expiresAt,
    approvalInputJson: record.approval === undefined ? undefined : JSON.stringify(record.approval.input),
    decidedBy: record.approval?.decidedBy,
    decidedAt: record.approval?.decidedAt,
    decisionReason: record.approval?.reason,
  };
  // The Tables SDK rejects undefined property values.
  for (const key of Object.keys(entity) as (keyof RunEntity)[]) if (entity[key] === undefined) delete entity[key];
  return entity;
}

function toRecord(entity: RunEntity): RunRecord {
  return {
    owner: entity.owner,
    runId: entity.runId,
    principalId: entity.principalId,
    roles: entity.rolesJson === undefined ? undefined : (JSON.parse(entity.rolesJson) as string[]),
    messageDigest: entity.messageDigest,
    plugin: entity.plugin,
    state: entity.state,
    sessionId: entity.sessionId,
    source: entity.source,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
    attempts: entity.attempts,
    leaseUntil: entity.leaseUntil,
    durationMs: entity.durationMs,
    resultBlob: entity.resultBlob,
    error: entity.errorCode === undefined ? undefined : { code: entity.errorCode, message: entity.errorMessage ?? "" },
    messageText: entity.messageText,
    channel: entity.channel,
    approval:
      entity.approvalExpiresAt === undefined
        ? undefined
        : {
            expiresAt: entity.approvalExpiresAt,
            input: entity.approvalInputJson === undefined ? undefined : JSON.parse(entity.approvalInputJson),
            decidedBy: entity.decidedBy,
            decidedAt: entity.decidedAt,
            reason: entity.decisionReason,
          },
  };
}
