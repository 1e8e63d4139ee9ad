// Preloaded (`node --import`) into the benchmark's and the tests' processes that start telemetry.
// @azure/monitor-opentelemetry's Azure VM resource detector asks the instance metadata service
// (169.254.169.254) at every start; on this machine no request may leave the loopback interface,
// so that one is sent to a closed loopback port instead and fails at once, as it does outside Azure.
import http from "node:http";

const metadataHost = "169.254.169.254";
const request = http.request;

http.request = function (...args) {
  const [first] = args;
  if (first && typeof first === "object" && !(first instanceof URL) && (first.host === metadataHost || first.hostname === metadataHost)) {
    args[0] = { ...first, host: "127.0.0.1", hostname: "127.0.0.1", port: 9 };
  }
  return request.apply(this, args);
};
