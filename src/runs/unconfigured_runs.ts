import { storageNotConfigured as unconfigured } from "../azure/storage_not_configured.js";
import type { ResultStore, RunQueue, RunResultDocument, RunStore, StoredRun } from "./run_record.js";

/** Stands where no storage is configured (the CLI): asynchronous runs say why they cannot work. */
export class UnconfiguredRunStorage implements RunStore, ResultStore, RunQueue {
  get(): Promise<StoredRun | undefined> {
    return Promise.reject(unconfigured());
  }
  create(): Promise<StoredRun | "exists"> {
    return Promise.reject(unconfigured());
  }
  replace(): Promise<StoredRun | "conflict"> {
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
}
