import { z } from "zod";
import { jsonResponse } from "../src/http/api_response.js";
import { definePublicHttpFunction } from "../src/http/http_function.js";

const livenessSchema = z.object({ status: z.literal("ok"), version: z.string() }).meta({ id: "Liveness" });

/**
 * Liveness: the process is up and serving. It calls no dependency, so that a platform restarting
 * unresponsive instances does not restart a healthy process because Redis or storage is down
 * (that is readiness, `GET /api/health`).
 */
export const healthLive = definePublicHttpFunction({
  operationId: "healthLive",
  summary: "Liveness: the process is up; calls no dependency",
  responses: { 200: { description: "The process is serving.", body: livenessSchema } },
  handler: async (_request, { services }) => jsonResponse(200, { status: "ok", version: services.config.version }, { "cache-control": "no-store" }),
});
