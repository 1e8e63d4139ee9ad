/**
 * Row "bare node:http": the physical limit of one Node process on this machine. Answers every
 * request with the same fixed JSON body (the size of an echo response) and does nothing else;
 * a request body it does not read is discarded by node:http itself.
 */
import { createServer } from "node:http";
import { serveHttpChild } from "./child_guard.js";

const body = Buffer.from(JSON.stringify({ status: "success", plugin: "echo", result: "hello", durationMs: 0, runId: "00000000-0000-4000-8000-000000000000" }));

const server = createServer((_req, res) => {
  res.statusCode = 200;
  res.setHeader("content-type", "application/json");
  res.end(body);
});

serveHttpChild(server);
