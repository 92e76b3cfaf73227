/**
 * The gateway's HTTP API, declared once with `@effect/platform`'s `HttpApi`: the server
 * (`HttpHandlers`, `HttpServer`), the OpenAPI document (GET /openapi.json) and any typed
 * client (`HttpApiClient.make(GatewayApi)`) all come from this declaration.
 *
 * | endpoint | who | what |
 * | --- | --- | --- |
 * | POST /messages | account (HTTP Basic, SMPP credentials) | send an MT through the SMPP pipeline |
 * | GET /messages/{id} | account | one of the account's messages |
 * | POST /mo | admin token, or the account itself | queue an MO for the account's receivers |
 * | GET /sessions | admin token (`Authorization: Bearer …`) | the bound SMPP sessions |
 * | GET /health | anyone | liveness and the store's health |
 * | GET /metrics | anyone | Prometheus text of the Effect metrics |
 *
 * Errors are `Schema.TaggedError`s carrying their HTTP status; SMPP refusals carry the
 * command_status name (`{ "_tag": "BadRequest", "error": "…", "status": "ESME_RINVDSTADR" }`).
 * A body that does not match the schema is answered 400 by the platform
 * (`HttpApiDecodeError`, with the schema's issues).
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"

// ---------------------------------------------------------------------------
// errors

/**
 * A request the gateway refuses: bad input, or a refusal of the SMPP pipeline (`status` is
 * its command_status name). `ids`: parts of a long message accepted before the refusal.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRequest extends Schema.TaggedError<BadRequest>()(
  "BadRequest",
  {
    error: Schema.String,
    status: Schema.String,
    ids: Schema.optional(Schema.Array(Schema.String))
  },
  HttpApiSchema.annotations({ status: 400, description: "Refused: bad input or an SMPP refusal (status)" })
) {
  override get message(): string {
    return `${this.status}: ${this.error}`
  }
}

/**
 * The account is over its throughput (ESME_RTHROTTLED); try again later. `ids`: parts of a
 * long message accepted before the refusal.
 *
 * @since 0.1.0
 * @category errors
 */
export class Throttled extends Schema.TaggedError<Throttled>()(
  "Throttled",
  {
    error: Schema.String,
    status: Schema.String,
    ids: Schema.optional(Schema.Array(Schema.String))
  },
  HttpApiSchema.annotations({ status: 429, description: "Over the account's throughput (ESME_RTHROTTLED)" })
) {
  override get message(): string {
    return `${this.status}: ${this.error}`
  }
}

/**
 * Missing or wrong credentials.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { error: Schema.String },
  HttpApiSchema.annotations({ status: 401, description: "Missing or wrong credentials" })
) {
  override get message(): string {
    return this.error
  }
}

/**
 * Authenticated, but not allowed to do this.
 *
 * @since 0.1.0
 * @category errors
 */
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { error: Schema.String },
  HttpApiSchema.annotations({ status: 403, description: "Not allowed for this caller" })
) {
  override get message(): string {
    return this.error
  }
}

/**
 * No such thing for this caller (another account's message is not found either).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { error: Schema.String },
  HttpApiSchema.annotations({ status: 404, description: "Unknown, or not the caller's" })
) {
  override get message(): string {
    return this.error
  }
}

/**
 * The gateway cannot serve the request now (the message store failed).
 *
 * @since 0.1.0
 * @category errors
 */
export class Unavailable extends Schema.TaggedError<Unavailable>()(
  "Unavailable",
  { error: Schema.String, status: Schema.String },
  HttpApiSchema.annotations({ status: 503, description: "The gateway cannot serve it now" })
) {
  override get message(): string {
    return `${this.status}: ${this.error}`
  }
}

/**
 * GET /health when the store does not answer.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unhealthy extends Schema.TaggedError<Unhealthy>()(
  "Unhealthy",
  {
    status: Schema.Literal("unavailable"),
    uptime: Schema.Number,
    sessions: Schema.Int,
    store: Schema.Literal("error"),
    error: Schema.String
  },
  HttpApiSchema.annotations({ status: 503, description: "The message store does not answer" })
) {
  override get message(): string {
    return this.error
  }
}

// ---------------------------------------------------------------------------
// authentication

/**
 * The account a request authenticated as (HTTP Basic with its SMPP system_id and password).
 *
 * @since 0.1.0
 * @category authentication
 */
export class CurrentAccount extends Context.Tag("@effect-smpp/gateway/http/CurrentAccount")<
  CurrentAccount,
  { readonly systemId: string }
>() {}

/**
 * Who called an endpoint open to both: the admin (bearer token) or an account (Basic).
 *
 * @since 0.1.0
 * @category authentication
 */
export type Caller =
  | { readonly _tag: "Admin" }
  | { readonly _tag: "Account"; readonly systemId: string }

/**
 * @since 0.1.0
 * @category authentication
 */
export class CurrentCaller extends Context.Tag("@effect-smpp/gateway/http/CurrentCaller")<CurrentCaller, Caller>() {}

/**
 * HTTP Basic with an account's SMPP credentials (no bind is made).
 *
 * @since 0.1.0
 * @category authentication
 */
export class AccountAuth extends HttpApiMiddleware.Tag<AccountAuth>()("@effect-smpp/gateway/http/AccountAuth", {
  failure: Unauthorized,
  provides: CurrentAccount,
  security: { basic: HttpApiSecurity.basic }
}) {}

/**
 * `Authorization: Bearer <admin token>`.
 *
 * @since 0.1.0
 * @category authentication
 */
export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("@effect-smpp/gateway/http/AdminAuth", {
  failure: Unauthorized,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/**
 * The admin token, or an account's Basic credentials.
 *
 * @since 0.1.0
 * @category authentication
 */
export class AdminOrAccountAuth extends HttpApiMiddleware.Tag<AdminOrAccountAuth>()(
  "@effect-smpp/gateway/http/AdminOrAccountAuth",
  {
    failure: Unauthorized,
    provides: CurrentCaller,
    security: { bearer: HttpApiSecurity.bearer, basic: HttpApiSecurity.basic }
  }
) {}

// ---------------------------------------------------------------------------
// models

const Address = (what: string) =>
  Schema.String.pipe(
    Schema.minLength(1, { message: () => `${what} is empty` }),
    Schema.maxLength(20, { message: () => `${what} has more than 20 characters` })
  )

/**
 * POST /messages. `text` is encoded (GSM 03.38 when it can carry it, else UCS-2, unless
 * `dataCoding` says) and split into parts with a concatenation UDH; `hex` gives the octets
 * instead (data_coding 4, 8-bit binary, unless given). `from`: digits (an optional leading
 * `+`) are an international number (TON 1, NPI 1), anything else alphanumeric (TON 5);
 * `to` is an international number. `registeredDelivery`: `true`/1 a receipt on the final
 * outcome, 2 on failure only. Times: SMPP time strings (`"000000010000000R"`) or ISO 8601.
 *
 * @since 0.1.0
 * @category models
 */
export const SendMessage = Schema.Struct({
  from: Address("from"),
  to: Address("to"),
  text: Schema.optional(Schema.String),
  hex: Schema.optional(
    Schema.String.pipe(Schema.pattern(/^(?:[0-9a-fA-F]{2})*$/, { message: () => "hex: an even number of hex digits" }))
  ),
  dataCoding: Schema.optional(Schema.Int.pipe(Schema.between(0, 255))),
  registeredDelivery: Schema.optional(Schema.Union(Schema.Boolean, Schema.Literal(0, 1, 2))),
  scheduleDeliveryTime: Schema.optional(Schema.String),
  validityPeriod: Schema.optional(Schema.String)
}).annotations({ identifier: "SendMessage" })

/**
 * @since 0.1.0
 * @category models
 */
export type SendMessage = typeof SendMessage.Type

/**
 * 201 of POST /messages: one id per part, in order.
 *
 * @since 0.1.0
 * @category models
 */
export const Sent = Schema.Struct({
  ids: Schema.Array(Schema.String),
  parts: Schema.Int,
  dataCoding: Schema.Int
}).annotations({ identifier: "Sent" })

/**
 * @since 0.1.0
 * @category models
 */
export type Sent = typeof Sent.Type

/**
 * A stored message. `state` is the message_state name (ENROUTE until the outcome is
 * known), `stateCode` its number; times are ISO 8601; `text` is absent for binary data
 * (then read `hex`, which holds the octets as stored, UDH included).
 *
 * @since 0.1.0
 * @category models
 */
export const MessageView = Schema.Struct({
  id: Schema.String,
  from: Schema.String,
  to: Schema.String,
  state: Schema.String,
  stateCode: Schema.Int,
  errorCode: Schema.Int,
  dataCoding: Schema.Int,
  esmClass: Schema.Int,
  text: Schema.NullOr(Schema.String),
  hex: Schema.String,
  registeredDelivery: Schema.Int,
  receipt: Schema.NullOr(Schema.String),
  scheduleDeliveryTime: Schema.NullOr(Schema.String),
  validityPeriod: Schema.NullOr(Schema.String),
  createdAt: Schema.String,
  updatedAt: Schema.String,
  doneAt: Schema.NullOr(Schema.String)
}).annotations({ identifier: "Message" })

/**
 * @since 0.1.0
 * @category models
 */
export type MessageView = typeof MessageView.Type

/**
 * POST /mo: an MO as a handset would send it, from `from` to `to` (the account's number or
 * short code). `account` is required from the admin; an account may leave it out (or name
 * itself). `text` is encoded in `dataCoding` (default GSM 03.38, UCS-2 when it does not fit).
 *
 * @since 0.1.0
 * @category models
 */
export const InjectMo = Schema.Struct({
  account: Schema.optional(Schema.String),
  from: Address("from"),
  to: Address("to"),
  text: Schema.String,
  dataCoding: Schema.optional(Schema.Int.pipe(Schema.between(0, 255)))
}).annotations({ identifier: "InjectMo" })

/**
 * @since 0.1.0
 * @category models
 */
export type InjectMo = typeof InjectMo.Type

/**
 * 202 of POST /mo: the delivery queue item holding the MO until a receiver acknowledges it.
 *
 * @since 0.1.0
 * @category models
 */
export const MoQueued = Schema.Struct({
  id: Schema.Int,
  account: Schema.String,
  dataCoding: Schema.Int
}).annotations({ identifier: "MoQueued" })

/**
 * Counters of a session since it started (see `Session.Stats`).
 *
 * @since 0.1.0
 * @category models
 */
export const SessionStats = Schema.Struct({
  pdusIn: Schema.Number,
  pdusOut: Schema.Number,
  bytesIn: Schema.Number,
  bytesOut: Schema.Number,
  writes: Schema.Number,
  responsesReceived: Schema.Number,
  inFlight: Schema.Number,
  waiting: Schema.Number,
  windowWaits: Schema.Number,
  windowTimeouts: Schema.Number,
  responseTimeouts: Schema.Number,
  requestsHandled: Schema.Number,
  requestsRefused: Schema.Number,
  unexpectedResponses: Schema.Number,
  enquireLinksSent: Schema.Number
}).annotations({ identifier: "SessionStats" })

/**
 * A bound SMPP session.
 *
 * @since 0.1.0
 * @category models
 */
export const SessionView = Schema.Struct({
  id: Schema.String,
  systemId: Schema.String,
  bindKind: Schema.Literal("transmitter", "receiver", "transceiver"),
  peer: Schema.NullOr(Schema.String),
  state: Schema.String,
  connectedAt: Schema.String,
  boundAt: Schema.NullOr(Schema.String),
  stats: SessionStats
}).annotations({ identifier: "Session" })

/**
 * @since 0.1.0
 * @category models
 */
export type SessionView = typeof SessionView.Type

/**
 * GET /health. `uptime` in seconds; `sessions` bound SMPP sessions.
 *
 * @since 0.1.0
 * @category models
 */
export const Health = Schema.Struct({
  status: Schema.Literal("ok"),
  uptime: Schema.Number,
  sessions: Schema.Int,
  store: Schema.Literal("ok")
}).annotations({ identifier: "Health" })

/**
 * The content type of GET /metrics: Prometheus text exposition format 0.0.4.
 *
 * @since 0.1.0
 * @category constants
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

// ---------------------------------------------------------------------------
// the API

/**
 * POST /messages and GET /messages/{id}, as an account.
 *
 * @since 0.1.0
 * @category groups
 */
export class MessagesGroup extends HttpApiGroup.make("messages")
  .add(
    HttpApiEndpoint.post("send", "/messages")
      .setPayload(SendMessage)
      .addSuccess(Sent, { status: 201 })
      .addError(BadRequest)
      .addError(Throttled)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "Send an MT message as the account (split into parts when long)")
  )
  .add(
    HttpApiEndpoint.get("get", "/messages/:id")
      .setPath(Schema.Struct({ id: Schema.String }))
      .addSuccess(MessageView)
      .addError(NotFound)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "One of the account's messages")
  )
  .middleware(AccountAuth)
  .annotate(OpenApi.Description, "Authenticate with the account's SMPP system_id and password (HTTP Basic).")
{}

/**
 * POST /mo, as the admin or the account itself.
 *
 * @since 0.1.0
 * @category groups
 */
export class MoGroup extends HttpApiGroup.make("mo")
  .add(
    HttpApiEndpoint.post("inject", "/mo")
      .setPayload(InjectMo)
      .addSuccess(MoQueued, { status: 202 })
      .addError(BadRequest)
      .addError(Forbidden)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "Queue an MO for the account's receiver sessions, as a handset would send it")
  )
  .middleware(AdminOrAccountAuth)
{}

/**
 * GET /sessions, as the admin.
 *
 * @since 0.1.0
 * @category groups
 */
export class AdminGroup extends HttpApiGroup.make("admin")
  .add(
    HttpApiEndpoint.get("sessions", "/sessions")
      .addSuccess(Schema.Array(SessionView))
      .annotate(OpenApi.Summary, "The bound SMPP sessions")
  )
  .middleware(AdminAuth)
{}

/**
 * GET /health and GET /metrics, open to anyone.
 *
 * @since 0.1.0
 * @category groups
 */
export class SystemGroup extends HttpApiGroup.make("system")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(Health)
      .addError(Unhealthy)
      .annotate(OpenApi.Summary, "Liveness and the message store's health")
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(HttpApiSchema.Text({ contentType: PROMETHEUS_CONTENT_TYPE }))
      .annotate(OpenApi.Summary, "Effect metrics in the Prometheus text format")
  )
{}

/**
 * The gateway's HTTP API.
 *
 * @since 0.1.0
 * @category api
 */
export class GatewayApi extends HttpApi.make("gateway")
  .add(MessagesGroup)
  .add(MoGroup)
  .add(AdminGroup)
  .add(SystemGroup)
  .annotate(OpenApi.Title, "effect-smpp gateway")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(
    OpenApi.Description,
    "Send and read messages as an SMPP account, inject MO messages, watch sessions, health and metrics."
  )
{}
