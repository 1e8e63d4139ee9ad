import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { requestSignal, setRequestSignal } from "../../../src/http/request_signal.js";

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
