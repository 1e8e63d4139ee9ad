import { describe, expect, it } from "vitest";
import { DeadlineList, type Deadline } from "../../../src/resilience/deadline_list.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A deadline that records when it expired, in ms after `origin`. */
function deadline(name: string, expired: { name: string; afterMs: number }[], origin: number): Deadline {
  return { at: 0, previous: undefined, next: undefined, expire: () => expired.push({ name, afterMs: performance.now() - origin }) };
}

describe("DeadlineList", () => {
  it("expires each deadline its duration after it was added, in order, and never one that was removed", async () => {
    const list = new DeadlineList(40);
    const expired: { name: string; afterMs: number }[] = [];
    const origin = performance.now();
    const first = deadline("first", expired, origin);
    const removed = deadline("removed", expired, origin);
    list.add(first);
    list.add(removed);
    await sleep(20);
    const later = deadline("later", expired, origin);
    list.add(later);
    list.remove(removed);
    list.remove(removed); // removing twice changes nothing
    await sleep(120);
    expect(expired.map((e) => e.name)).toEqual(["first", "later"]);
    // The second one is served by the same timer set again: it comes ~20 ms after the first, not with it.
    expect(expired[0]!.afterMs).toBeGreaterThanOrEqual(38);
    expect(expired[1]!.afterMs).toBeGreaterThanOrEqual(58);
  });

  it("takes new deadlines after all have expired or been removed", async () => {
    const list = new DeadlineList(20);
    const expired: { name: string; afterMs: number }[] = [];
    const origin = performance.now();
    const gone = deadline("gone", expired, origin);
    list.add(gone);
    list.remove(gone);
    await sleep(40);
    expect(expired).toEqual([]);
    list.add(deadline("again", expired, origin));
    await sleep(60);
    expect(expired.map((e) => e.name)).toEqual(["again"]);
  });

  it("does not expire a deadline that expired already a second time, and lets one re-added from expire() come later", async () => {
    const list = new DeadlineList(20);
    const seen: string[] = [];
    const again: Deadline = { at: 0, previous: undefined, next: undefined, expire: () => seen.push("again") };
    const once: Deadline = {
      at: 0,
      previous: undefined,
      next: undefined,
      expire: () => {
        seen.push("once");
        list.add(again);
      },
    };
    list.add(once);
    await sleep(30);
    expect(seen).toEqual(["once"]);
    list.remove(once);
    await sleep(40);
    expect(seen).toEqual(["once", "again"]);
  });
});
