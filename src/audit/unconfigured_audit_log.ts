import { storageNotConfigured } from "../azure/storage_not_configured.js";
import type { AuditEntry, AuditLog, AuditPage } from "./audit_event.js";

/** Stands where no storage is configured (the CLI without a session): anything that needs the log says why it cannot. */
export class UnconfiguredAuditLog implements AuditLog {
  append(): Promise<AuditEntry> {
    return Promise.reject(storageNotConfigured());
  }
  appendTurn(): Promise<AuditEntry[]> {
    return Promise.reject(storageNotConfigured());
  }
  list(): Promise<AuditPage> {
    return Promise.reject(storageNotConfigured());
  }
}
