import { storageNotConfigured as unconfigured } from "../azure/storage_not_configured.js";
import type { ApprovalIndex, PendingApproval } from "../approvals/approval_index.js";
import type { ResultStore, RunQueue, RunResultDocument, RunStore, StoredRun } from "./run_record.js";

/** Stands where no storage is configured (the CLI): asynchronous runs and approvals say why they cannot work. */
export class UnconfiguredRunStorage implements RunStore, ResultStore, RunQueue, ApprovalIndex {
  get(): Promise<StoredRun | undefined> {
    return Promise.reject(unconfigured());
  }
  create(): Promise<StoredRun | "exists"> {
    return Promise.reject(unconfigured());
  }
  replace(): Promise<StoredRun | "conflict"> {
    return Promise.reject(unconfigured());
  }
  update(): Promise<StoredRun | "conflict"> {
    return Promise.reject(unconfigured());
  }
  remove(): Promise<void> {
    return Promise.reject(unconfigured());
  }
  write(): Promise<string> {
    return Promise.reject(unconfigured());
  }
  read(): Promise<RunResultDocument | undefined> {
    return Promise.reject(unconfigured());
  }
  send(): Promise<void> {
    return Promise.reject(unconfigured());
  }
  add(): Promise<"added" | "taken"> {
    return Promise.reject(unconfigured());
  }
  ownerOf(): Promise<string | undefined> {
    return Promise.reject(unconfigured());
  }
  pending(): Promise<PendingApproval[]> {
    return Promise.reject(unconfigured());
  }
  unlist(): Promise<void> {
    return Promise.reject(unconfigured());
  }
  release(): Promise<void> {
    return Promise.reject(unconfigured());
  }
}
