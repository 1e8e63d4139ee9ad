import { AppError } from "../errors/app_error.js";

/** What the storage services answer when the table, queue or container a call names does not exist. */
const missingCodes = new Set(["TableNotFound", "QueueNotFound", "ContainerNotFound"]);

/**
 * What they answer to creating one that was deleted moments ago: Azure keeps a deleted table's
 * name for about 40 s (a queue's and a container's for a while too).
 */
const beingDeletedCodes = new Set(["TableBeingDeleted", "QueueBeingDeleted", "ContainerBeingDeleted"]);

export type StorageResourceKind = "table" | "queue" | "container";

/** How long a caller is told to wait while the service is still deleting a resource. */
export const beingDeletedRetryAfterSeconds = 10;

/**
 * The storage error code of a failed SDK call (`TableNotFound`, `QueueBeingDeleted`, ...): the
 * queue and blob SDKs put it in `code`, the Tables SDK in `details.errorCode` (or in a
 * transaction's `code`), all of them in the `x-ms-error-code` header.
 */
export function storageErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const failed = error as { code?: unknown; details?: { errorCode?: unknown }; response?: { headers?: { get?(name: string): string | undefined } } };
  const code = failed.code ?? failed.details?.errorCode ?? failed.response?.headers?.get?.("x-ms-error-code");
  return typeof code === "string" ? code : undefined;
}

/** The call failed because its table, queue or container does not exist. */
export function isMissingResource(error: unknown): boolean {
  const code = storageErrorCode(error);
  return code !== undefined && missingCodes.has(code);
}

/** The call failed because its table, queue or container is still being deleted. */
export function isBeingDeleted(error: unknown): boolean {
  const code = storageErrorCode(error);
  return code !== undefined && beingDeletedCodes.has(code);
}

/**
 * A table, queue or container the app writes. It is created before its first use in the process,
 * and again when a write finds it missing (the account was emptied or the resource deleted behind
 * the running app), the write then being tried once more. While the service will not create it
 * yet (409 `TableBeingDeleted` and the like), the call fails with 503 storage_unavailable and
 * Retry-After, and a later call tries again.
 */
export class StorageResource {
  private creation: Promise<void> | undefined;

  /** `create` creates it, and succeeds when it exists already (createTable, createIfNotExists). */
  constructor(
    private readonly kind: StorageResourceKind,
    private readonly create: () => Promise<unknown>,
  ) {}

  /** Created once per process; concurrent callers share one creation, and a failed one is tried again by the next call. */
  ready(): Promise<void> {
    this.creation ??= this.createNow();
    return this.creation;
  }

  /** Runs a write once the resource is ready; if the write finds it missing, creates it again and writes once more. */
  async write<T>(operation: () => Promise<T>): Promise<T> {
    const creation = this.ready();
    await creation;
    try {
      return await operation();
    } catch (error) {
      if (isBeingDeleted(error)) throw this.beingDeleted(error);
      if (!isMissingResource(error)) throw error;
      // Writers that found it missing together share one creation: only the first forgets the old one.
      if (this.creation === creation) this.creation = undefined;
      await this.ready();
      return operation();
    }
  }

  private createNow(): Promise<void> {
    return this.create().then(
      () => undefined,
      (error: unknown) => {
        this.creation = undefined;
        throw isBeingDeleted(error) ? this.beingDeleted(error) : error;
      },
    );
  }

  private beingDeleted(cause: unknown): AppError {
    return new AppError(
      "storage_unavailable",
      `storage is still deleting a ${this.kind} the app writes; it is created again once the service allows it: retry in ${beingDeletedRetryAfterSeconds} s`,
      { cause, details: { retryAfterSeconds: beingDeletedRetryAfterSeconds }, headers: { "retry-after": String(beingDeletedRetryAfterSeconds) } },
    );
  }
}
