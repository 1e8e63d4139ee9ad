import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { ClientDeparture, requestCallerSignal, requestSignal, setRequestSignal } from "../../../src/http/request_signal.js";

const request = () => new HttpRequest({ method: "POST", url: "http://localhost/api/plugins/execute" });

describe("requestSignal", () => {
  it("is absent for a request no host registered a signal for (the Functions host): the work runs to its own deadline", () => {
    expect(requestSignal(request())).toBeUndefined();
  });

  it("is the signal the local host registered for that request, and for no other", () => {
    const first = request();
    const controller = new AbortController();
    setRequestSignal(first, controller.signal);
    expect(requestSignal(first)).toBe(controller.signal);
    expect(requestSignal(request())).toBeUndefined();
  });
});

describe("ClientDeparture (the local host's client leaving)", () => {
  it("tells its listeners once, and makes an AbortSignal only when asked, aborted if the client has left", () => {
    const departure = new ClientDeparture();
    const heard: string[] = [];
    departure.onAbort(() => heard.push("a"));
    const remove = departure.onAbort(() => heard.push("b"));
    remove();
    const early = departure.signal;
    departure.leave(new Error("gone"));
    departure.leave(new Error("again"));
    expect(heard).toEqual(["a"]);
    expect(departure.aborted).toBe(true);
    expect(early.aborted).toBe(true);
    const late = new ClientDeparture();
    late.leave(new Error("gone"));
    expect(late.signal.aborted).toBe(true);
    expect((late.signal.reason as Error).message).toBe("gone");
  });

  it("is what requestCallerSignal gives the runner, and requestSignal its AbortSignal", () => {
    const served = request();
    const departure = new ClientDeparture();
    setRequestSignal(served, departure);
    expect(requestCallerSignal(served)).toBe(departure);
    expect(requestSignal(served)).toBe(departure.signal);
  });
});
