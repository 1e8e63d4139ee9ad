import { odata, type TableClient } from "@azure/data-tables";
import { shorten, storageCall } from "../azure/storage_call.js";
import { isMissingResource, StorageResource } from "../azure/storage_resource.js";
import type { StorageDependency } from "../telemetry/tracing.js";
import { AppError } from "../errors/app_error.js";
import type { AuditEntry, AuditEvent, AuditLog, AuditPage } from "./audit_event.js";
import { sessionStorageKey, type SessionRef } from "../memory/session_ref.js";
import { createRowKeyFactory, rowKeyPattern, timestampOfRowKey } from "./row_key.js";

// A table string property holds at most 64 KiB of UTF-16; longer values are cut with a marker.
const maxFieldChars = 30_000;
// Table Storage's limit on the entities of one entity-group transaction.
const maxTransactionEntities = 100;

// A type alias, not an interface: the Tables SDK's transaction actions want an index-signature-compatible entity.
type AuditEntity = {
  partitionKey: string;
  rowKey: string;
  type: string;
  content?: string;
  source?: string;
  plugin?: string;
  runId?: string;
  inputJson?: string;
  resultJson?: string;
  outcome?: string;
  errorMessage?: string;
  durationMs?: number;
  expiresAt?: string;
  approver?: string;
  reason?: string;
  truncated?: boolean;
};

/**
 * The audit log in Azure Table Storage: PartitionKey = `<principalKey>:<sessionId>` (a session is
 * its caller's own), RowKey = time-ordered unique key. Its table is created on first use, and again
 * by a write that finds it missing; a missing table reads as an empty log.
 */
export class TableAuditLog implements AuditLog {
  private readonly resource = new StorageResource("table", () => this.table.createTable());

  constructor(
    private readonly table: TableClient,
    private readonly nextRowKey: () => string = createRowKeyFactory(),
  ) {}

  async append(session: SessionRef, event: AuditEvent): Promise<AuditEntry> {
    const rowKey = this.nextRowKey();
    const entity = toEntity(sessionStorageKey(session), rowKey, event);
    await storageCall("audit log could not be written", this.dependency("createEntity"), () =>
      this.resource.write(async () => {
        await this.table.createEntity(entity);
      }),
    );
    return toEntry(entity, session.sessionId);
  }

  async appendTurn(session: SessionRef, events: readonly AuditEvent[]): Promise<AuditEntry[]> {
    if (events.length === 0) return [];
    const partition = sessionStorageKey(session);
    // Keys are taken in the turn's order before anything is sent, so the timeline reads as the turn happened.
    const entities = events.map((event) => toEntity(partition, this.nextRowKey(), event));
    await storageCall("audit log could not be written", this.dependency("submitTransaction"), () =>
      this.resource.write(async () => {
        // An entity-group transaction holds at most 100 entities of one partition; a longer turn goes in order, chunk by chunk.
        for (let start = 0; start < entities.length; start += maxTransactionEntities) {
          const chunk = entities.slice(start, start + maxTransactionEntities);
          await this.table.submitTransaction(chunk.map((entity) => ["create", entity] as const));
        }
      }),
    );
    return entities.map((entity) => toEntry(entity, session.sessionId));
  }

  async list(session: SessionRef, page: { limit: number; cursor?: string | undefined }): Promise<AuditPage> {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const partition = sessionStorageKey(session);
    const filter = after === undefined ? odata`PartitionKey eq ${partition}` : odata`PartitionKey eq ${partition} and RowKey gt ${after}`;
    // One extra entity tells whether another page exists, so the last page never hands out a cursor.
    const wanted = page.limit + 1;
    const found: AuditEntity[] = [];
    await storageCall("audit log could not be read", this.dependency("listEntities"), async () => {
      await this.resource.ready();
      try {
        const pages = this.table.listEntities<AuditEntity>({ queryOptions: { filter } }).byPage({ maxPageSize: wanted });
        for await (const batch of pages) {
          found.push(...batch);
          if (found.length >= wanted) break;
        }
      } catch (error) {
        // Its table gone (the account emptied behind the app), the log is empty until the next write creates it again.
        if (!isMissingResource(error)) throw error;
      }
    });
    const entries = found.slice(0, page.limit).map((entity) => toEntry(entity, session.sessionId));
    const last = entries.at(-1);
    return { entries, nextCursor: found.length > page.limit && last ? encodeCursor(last.id) : null };
  }

  private dependency(operation: string): StorageDependency {
    return { service: "table", operation, resource: this.table.tableName, endpoint: this.table.url };
  }
}

export function encodeCursor(rowKey: string): string {
  return Buffer.from(rowKey, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): string {
  const rowKey = Buffer.from(cursor, "base64url").toString("utf8");
  if (!rowKeyPattern.test(rowKey)) {
    throw new AppError("invalid_request", "cursor is not one this API returned", { details: { field: "cursor" } });
  }
  return rowKey;
}

function toEntity(partitionKey: string, rowKey: string, event: AuditEvent): AuditEntity {
  let truncated = false;
  const cut = (value: string | undefined): string | undefined => {
    if (value === undefined || value.length <= maxFieldChars) return value;
    truncated = true;
    return shorten(value, maxFieldChars);
  };
  const entity: AuditEntity = {
    partitionKey,
    rowKey,
    type: event.type,
    content: cut(event.content),
    source: event.source,
    plugin: event.plugin,
    runId: event.runId,
    inputJson: cut(jsonOf(event.input)),
    resultJson: cut(jsonOf(event.result)),
    outcome: event.outcome,
    errorMessage: cut(event.errorMessage),
    durationMs: event.durationMs,
    expiresAt: event.expiresAt,
    approver: event.approver,
    reason: cut(event.reason),
  };
  if (truncated) entity.truncated = true;
  // The Tables SDK rejects undefined property values.
  for (const key of Object.keys(entity) as (keyof AuditEntity)[]) if (entity[key] === undefined) delete entity[key];
  return entity;
}

function toEntry(entity: AuditEntity, sessionId: string): AuditEntry {
  const entry: Record<string, unknown> = {
    id: entity.rowKey,
    sessionId,
    timestamp: timestampOfRowKey(entity.rowKey),
    type: entity.type,
    content: entity.content,
    source: entity.source,
    plugin: entity.plugin,
    runId: entity.runId,
    input: parseJson(entity.inputJson),
    result: parseJson(entity.resultJson),
    outcome: entity.outcome,
    errorMessage: entity.errorMessage,
    durationMs: entity.durationMs,
    expiresAt: entity.expiresAt,
    approver: entity.approver,
    reason: entity.reason,
    truncated: entity.truncated,
  };
  for (const key of Object.keys(entry)) if (entry[key] === undefined) delete entry[key];
  return entry as unknown as AuditEntry;
}

function jsonOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.stringify(value);
  } catch {
    return '"<unserialisable>"';
  }
}

function parseJson(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    // A field cut at the size limit is no longer valid JSON; it is returned as the text that was kept.
    return value;
  }
}
