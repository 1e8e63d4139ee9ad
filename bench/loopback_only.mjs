// Preloaded (`node --import`) into the benchmark's and the tests' processes that start telemetry.
// On this machine no request may leave the loopback interface. The app's telemetry asks the Azure
// instance metadata service (169.254.169.254) nothing (src/telemetry/telemetry.ts detects its
// resource from settings only); should a dependency start to, the request goes to a closed
// loopback port instead and fails at once, as it does outside Azure, and a line on stderr says
// so: tests/e2e/bundle_lazy_loading.test.ts checks that a start with telemetry writes none.
import http from "node:http";

const metadataHost = "169.254.169.254";
const request = http.request;

http.request = function (...args) {
  const [first] = args;
  if (first && typeof first === "object" && !(first instanceof URL) && (first.host === metadataHost || first.hostname === metadataHost)) {
    process.stderr.write(`loopback_only: a request to the instance metadata service (${metadataHost}) was kept on this machine\n`);
    args[0] = { ...first, host: "127.0.0.1", hostname: "127.0.0.1", port: 9 };
  }
  return request.apply(this, args);
};
