import { AppError } from "../errors/app_error.js";
import type { AuditEntry, AuditLog, AuditPage } from "./audit_event.js";

/** Stands where no storage is configured (the CLI without a session): anything that needs the log says why it cannot. */
export class UnconfiguredAuditLog implements AuditLog {
  append(): Promise<AuditEntry> {
    return Promise.reject(this.error());
  }
  appendTurn(): Promise<AuditEntry[]> {
    return Promise.reject(this.error());
  }
  list(): Promise<AuditPage> {
    return Promise.reject(this.error());
  }
  ping(): Promise<void> {
    return Promise.reject(this.error());
  }
  private error(): AppError {
    return new AppError("storage_unavailable", "no storage is configured: set STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_NAME");
  }
}
