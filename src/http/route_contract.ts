import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { z } from "zod";
import type { ErrorCode } from "../errors/error_codes.js";

/**
 * What a route reads and answers, written once beside its handler (functions/<name>.ts): the
 * wrapper (http_function.ts) checks the request against it before the handler runs, the handler's
 * argument and answer are typed from it, and GET /api/openapi.json is generated from it
 * (openapi_document.ts).
 */
export interface RouteContract<Request extends RequestContract = RequestContract, Answers extends ResponsesContract = ResponsesContract> {
  /** The operation's name in the document: clients generated from it name their methods by it. */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly request?: Request;
  readonly responses: Answers;
  /**
   * The codes the handler and the services it calls may answer. The wrapper's own (401, a foreign
   * origin's 403, 429, 500, and a body's 400 and 413) are added to them (HttpFunction.errorCodes).
   */
  readonly errors?: readonly ErrorCode[];
}

/** The parts of a request a route reads, each checked before the handler runs, which gets them parsed. */
export interface RequestContract {
  /** The route template's parameters (`{runId}`). */
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** By their lower-case names. */
  readonly headers?: z.ZodObject;
  /** A JSON body (read up to MAX_BODY_BYTES). */
  readonly body?: z.ZodType;
  /** A body the handler reads itself (the MCP SDK reads its JSON-RPC): described in the document, not read before the handler. */
  readonly rawBody?: string;
}

export interface ResponseContract {
  readonly description: string;
  /** The JSON body (`application/json`). */
  readonly body?: z.ZodType;
  /**
   * The answer as server-sent events instead: the data of each event. A schema with an `id`
   * (`.meta({ id })`), so that the document lists it among its components.
   */
  readonly events?: z.ZodType;
  /** Other media types the answer may be in, each with what it is. */
  readonly content?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly required?: boolean }>>;
}

/** By status; `default` for any other answer (what the MCP SDK answers of its own). */
export type ResponsesContract = { readonly [status: number]: ResponseContract; readonly default?: ResponseContract };

type BodyPart = "params" | "query" | "headers" | "body";

/** What the handler is given: the request's declared parts as their schemas parse them, and the request itself. */
export type RequestOf<Request extends RequestContract> = { readonly request: HttpRequest } & {
  readonly [Part in BodyPart & keyof Request]: Request[Part] extends z.ZodType ? z.output<Request[Part]> : never;
};

/** A value of the type, or of the same shape with readonly fields and arrays: a handler only hands its answer on. */
type ReadonlyAccepted<T> = T extends readonly (infer Item)[]
  ? readonly ReadonlyAccepted<Item>[]
  : T extends object
    ? { readonly [K in keyof T]: ReadonlyAccepted<T[K]> }
    : T;

type JsonAnswer<Status, Body extends z.ZodType> = {
  readonly status: Status;
  readonly jsonBody: ReadonlyAccepted<z.input<Body>>;
  readonly headers?: Readonly<Record<string, string>>;
};

/** An answer that is not one JSON body: a stream of events, a file, a page, nothing (304). */
type RawAnswer<Status> = { readonly status: Status } & Omit<HttpResponseInit, "status" | "jsonBody">;

/** The declared JSON body; any other answer where the response declares no JSON body, or events or other content besides. */
type AnswerAt<Status, Response> = Response extends { readonly body: infer Body extends z.ZodType }
  ? JsonAnswer<Status, Body> | (Response extends { readonly events: z.ZodType } | { readonly content: object } ? RawAnswer<Status> : never)
  : RawAnswer<Status>;

/** What the handler may answer: one of the declared statuses, with its body. */
export type AnswerOf<Answers extends ResponsesContract> = {
  [Status in keyof Answers & (number | "default")]-?: Status extends "default" ? HttpResponseInit : AnswerAt<Status, NonNullable<Answers[Status]>>;
}[keyof Answers & (number | "default")];
