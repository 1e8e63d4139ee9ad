import { describe, expect, it } from "vitest";
import { beingDeletedRetryAfterSeconds, isMissingResource, StorageResource, storageErrorCode } from "../../../src/azure/storage_resource.js";
import { errorResponse } from "../../../src/http/api_response.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { failureOf } from "../../support/failure_of.js";

/**
 * What the storage SDKs reject with, in the shapes seen against Azurite: the Tables SDK puts the
 * service's code in `details.errorCode` (a transaction in `code`), the queue and blob SDKs in `code`.
 */
const tableNotFound = () =>
  Object.assign(new Error("The table specified does not exist."), { name: "RestError", statusCode: 404, details: { errorCode: "TableNotFound" } });
const queueNotFound = () => Object.assign(new Error("The specified queue does not exist."), { name: "RestError", statusCode: 404, code: "QueueNotFound" });
/** Azure's answer to creating a table deleted less than about 40 s ago (Azurite deletes at once, so never says it). */
const tableBeingDeleted = () =>
  Object.assign(new Error("The specified table is being deleted. Try operation later."), {
    name: "RestError",
    statusCode: 409,
    details: { errorCode: "TableBeingDeleted" },
  });

/** A table, queue or container of our own: whether it exists, how often it was created, and what creating it answers. */
class FakeResource {
  exists = false;
  creations = 0;
  refuseCreation: (() => Error) | undefined;
  writes = 0;

  readonly create = async () => {
    this.creations++;
    if (this.refuseCreation) throw this.refuseCreation();
    this.exists = true;
  };

  /** A write, which fails as the service does when the resource is missing. */
  readonly write = async (missing: () => Error = tableNotFound) => {
    this.writes++;
    await Promise.resolve();
    if (!this.exists) throw missing();
    return "written";
  };
}

describe("storageErrorCode", () => {
  it("reads the service's code wherever the SDK put it", () => {
    expect(storageErrorCode(tableNotFound())).toBe("TableNotFound");
    expect(storageErrorCode(queueNotFound())).toBe("QueueNotFound");
    expect(storageErrorCode({ response: { headers: { get: (name: string) => (name === "x-ms-error-code" ? "ContainerNotFound" : undefined) } } })).toBe(
      "ContainerNotFound",
    );
    expect(storageErrorCode(new Error("ECONNREFUSED"))).toBeUndefined();
    expect(storageErrorCode("a string")).toBeUndefined();
  });

  it("tells a missing resource from a missing entity or blob", () => {
    expect(isMissingResource(tableNotFound())).toBe(true);
    expect(isMissingResource({ statusCode: 404, details: { errorCode: "ResourceNotFound" } })).toBe(false);
    expect(isMissingResource({ statusCode: 404, code: "BlobNotFound" })).toBe(false);
  });
});

describe("StorageResource", () => {
  it("creates the resource once before the first write, concurrent writers sharing the creation", async () => {
    const fake = new FakeResource();
    const resource = new StorageResource("table", fake.create);
    expect(await Promise.all([resource.write(() => fake.write()), resource.write(() => fake.write())])).toEqual(["written", "written"]);
    await resource.write(() => fake.write());
    expect(fake.creations).toBe(1);
  });

  it("creates it again when a write finds it missing (the account emptied behind the app), and writes once more", async () => {
    const fake = new FakeResource();
    const resource = new StorageResource("queue", fake.create);
    await resource.write(() => fake.write(queueNotFound));
    fake.exists = false;
    const writesBefore = fake.writes;
    expect(await Promise.all(Array.from({ length: 5 }, () => resource.write(() => fake.write(queueNotFound))))).toEqual(Array(5).fill("written"));
    // The five writers that found it missing shared one creation.
    expect(fake.creations).toBe(2);
    expect(fake.writes - writesBefore).toBe(10);
  });

  it("hands on what is not a missing resource, without creating anything", async () => {
    const fake = new FakeResource();
    const resource = new StorageResource("table", fake.create);
    await resource.ready();
    const conflict = Object.assign(new Error("exists"), { statusCode: 409, details: { errorCode: "EntityAlreadyExists" } });
    await expect(resource.write(() => Promise.reject(conflict))).rejects.toBe(conflict);
    expect(fake.creations).toBe(1);
  });

  it("answers 503 storage_unavailable with Retry-After while the service is still deleting it (TableBeingDeleted), and creates it on a later call", async () => {
    const fake = new FakeResource();
    const resource = new StorageResource("table", fake.create);
    await resource.write(() => fake.write());
    // Deleted in Azure: gone, and not to be created again for a while.
    fake.exists = false;
    fake.refuseCreation = tableBeingDeleted;
    const refused = await failureOf(resource.write(() => fake.write()));
    expect(refused.code).toBe("storage_unavailable");
    expect(refused.message).toMatch(/still deleting a table/);
    expect(refused.details).toEqual({ retryAfterSeconds: beingDeletedRetryAfterSeconds });
    const response = errorResponse(refused, silentLogger);
    expect(response.status).toBe(503);
    expect(response.headers).toEqual({ "retry-after": String(beingDeletedRetryAfterSeconds) });
    expect(response.jsonBody).toMatchObject({ status: "error", error: { code: "storage_unavailable" } });

    // The next call tries to create it again before writing: still refused.
    const writesBefore = fake.writes;
    expect((await failureOf(resource.write(() => fake.write()))).code).toBe("storage_unavailable");
    expect(fake.writes).toBe(writesBefore);

    // Once the service allows it, the next call creates it and writes.
    fake.refuseCreation = undefined;
    expect(await resource.write(() => fake.write())).toBe("written");
    expect(fake.exists).toBe(true);
  });

  it("fails a write that still finds it missing after creating it again, with the service's error", async () => {
    const resource = new StorageResource("container", async () => {});
    const missing = Object.assign(new Error("The specified container does not exist."), { statusCode: 404, code: "ContainerNotFound" });
    let writes = 0;
    await expect(
      resource.write(async () => {
        writes++;
        throw missing;
      }),
    ).rejects.toBe(missing);
    expect(writes).toBe(2);
  });
});
