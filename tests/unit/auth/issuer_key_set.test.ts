import { errors } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { IssuerKeySet, type IssuerKeySetOptions } from "../../../src/auth/issuer_key_set.js";
import { failureOf } from "../../support/failure_of.js";
import { TestIssuer } from "../../support/test_issuer.js";

let issuer: TestIssuer;
let now: number;
const second = 1000;
const minute = 60 * second;

beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer.stop();
});
beforeEach(() => {
  now = 1_000_000;
  issuer.failing.keySet = false;
  issuer.failing.discovery = false;
  issuer.keySetPadding = 0;
});

const options: IssuerKeySetOptions = {
  fetchTimeoutMs: 5000,
  refreshCooldownMs: 30 * second,
  maxAgeMs: 10 * minute,
  retryDelays: { firstDelayMs: 30 * second, maxDelayMs: 5 * minute },
  now: () => now,
};

const header = (kid: string) => ({ alg: "RS256", kid });
const fetchesOf = () => ({ keySet: issuer.keySetFetches, discovery: issuer.discoveryFetches });

/** What asking for a key fails with (a key no one published unless `kid` is given); undefined when it is found. */
const keyError = (keys: IssuerKeySet, kid = "kid-nobody-published") =>
  keys.getKey(header(kid)).then(
    () => undefined,
    (error: unknown) => error,
  );

describe("IssuerKeySet", () => {
  it("fetches the key set once and serves known keys from it", async () => {
    const keys = new IssuerKeySet({ jwksUri: issuer.jwksUri }, options);
    const before = fetchesOf();
    for (let i = 0; i < 3; i++) expect((await keys.getKey(header(issuer.currentKid))).type).toBe("public");
    expect(fetchesOf()).toEqual({ ...before, keySet: before.keySet + 1 });
  });

  it("lets an unknown kid fetch again at most once per cooldown after a success", async () => {
    const keys = new IssuerKeySet({ jwksUri: issuer.jwksUri }, options);
    await keys.getKey(header(issuer.currentKid));
    const before = issuer.keySetFetches;
    for (let i = 0; i < 5; i++) expect(await keyError(keys)).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(issuer.keySetFetches).toBe(before);
    now += 30 * second;
    const rotated = await issuer.rotate();
    expect((await keys.getKey(header(rotated))).type).toBe("public");
    expect(issuer.keySetFetches).toBe(before + 1);
  });

  it("after a failed fetch waits 30 s, then 60 s, 120 s, ... up to 5 min before fetching again; requests meanwhile fail at once with Retry-After", async () => {
    const keys = new IssuerKeySet({ jwksUri: issuer.jwksUri }, options);
    await keys.getKey(header(issuer.currentKid));
    issuer.failing.keySet = true;
    now += 30 * second;
    const before = issuer.keySetFetches;
    const seen: { delaySeconds: string | undefined; fetches: number }[] = [];
    for (const delay of [30, 60, 120, 240, 300, 300]) {
      const failed = (await keyError(keys)) as { code?: string; headers?: Record<string, string> };
      expect(failed.code).toBe("auth_unavailable");
      seen.push({ delaySeconds: failed.headers?.["retry-after"], fetches: issuer.keySetFetches - before });
      now += delay * second - 1;
      const waiting = await failureOf(keys.getKey(header("kid-nobody-published")));
      expect(waiting.code).toBe("auth_unavailable");
      expect(waiting.headers).toEqual({ "retry-after": "1" });
      now += 1;
    }
    expect(seen.map((s) => s.delaySeconds)).toEqual(["30", "60", "120", "240", "300", "300"]);
    expect(seen.map((s) => s.fetches)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("starts the back-off again from 30 s after a success", async () => {
    const keys = new IssuerKeySet({ jwksUri: issuer.jwksUri }, options);
    issuer.failing.keySet = true;
    expect((await failureOf(keys.getKey(header(issuer.currentKid)))).headers).toEqual({ "retry-after": "30" });
    now += 30 * second;
    expect((await failureOf(keys.getKey(header(issuer.currentKid)))).headers).toEqual({ "retry-after": "60" });
    issuer.failing.keySet = false;
    now += 60 * second;
    expect((await keys.getKey(header(issuer.currentKid))).type).toBe("public");
    issuer.failing.keySet = true;
    now += 30 * second;
    expect((await failureOf(keys.getKey(header("kid-nobody-published")))).headers).toEqual({ "retry-after": "30" });
  });

  it("keeps serving the keys it holds once they are past their age and every refresh fails", async () => {
    const keys = new IssuerKeySet({ jwksUri: issuer.jwksUri }, options);
    const kid = issuer.currentKid;
    await keys.getKey(header(kid));
    issuer.failing.keySet = true;
    const before = issuer.keySetFetches;
    now += 11 * minute;
    expect((await keys.getKey(header(kid))).type).toBe("public");
    // The refresh of the aged keys runs beside the request, fails, and starts the back-off.
    await vi.waitFor(() => expect(issuer.keySetFetches).toBe(before + 1));
    await vi.waitFor(async () => expect((await failureOf(keys.getKey(header("kid-nobody-published")))).headers).toEqual({ "retry-after": "30" }));
    for (let i = 0; i < 3; i++) expect((await keys.getKey(header(kid))).type).toBe("public");
    now += 60 * minute;
    expect((await keys.getKey(header(kid))).type).toBe("public");
    await vi.waitFor(() => expect(issuer.keySetFetches).toBe(before + 2));
  });

  it("replaces aged keys with the issuer's current ones when the refresh succeeds", async () => {
    const keys = new IssuerKeySet({ jwksUri: issuer.jwksUri }, options);
    const old = issuer.currentKid;
    await keys.getKey(header(old));
    await issuer.rotate({ dropOld: true });
    now += 11 * minute;
    expect((await keys.getKey(header(old))).type).toBe("public");
    await vi.waitFor(async () => expect(await keyError(keys, old)).toBeInstanceOf(errors.JWKSNoMatchingKey));
  });

  it("backs off a failing OpenID configuration the same way, and reads it once after a success", async () => {
    const keys = new IssuerKeySet({ issuer: issuer.issuer }, options);
    issuer.failing.discovery = true;
    const before = fetchesOf();
    for (let i = 0; i < 10; i++) {
      const failed = await failureOf(keys.getKey(header(issuer.currentKid)));
      expect(failed.code).toBe("auth_unavailable");
      expect(failed.headers).toEqual({ "retry-after": "30" });
    }
    expect(fetchesOf()).toEqual({ ...before, discovery: before.discovery + 1 });
    issuer.failing.discovery = false;
    now += 30 * second;
    expect((await keys.getKey(header(issuer.currentKid))).type).toBe("public");
    now += 30 * second;
    await keyError(keys);
    expect(fetchesOf()).toEqual({ discovery: before.discovery + 2, keySet: before.keySet + 2 });
  });

  it("refuses a key set larger than any issuer publishes, and backs off", async () => {
    const keys = new IssuerKeySet({ jwksUri: issuer.jwksUri }, options);
    issuer.keySetPadding = 2 * 1024 * 1024;
    const failed = await failureOf(keys.getKey(header(issuer.currentKid)));
    expect(failed.code).toBe("auth_unavailable");
    expect(failed.headers).toEqual({ "retry-after": "30" });
  });
});
