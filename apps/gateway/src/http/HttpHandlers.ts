/**
 * The implementation of `GatewayApi`: one `HttpApiBuilder.group` layer per group and one
 * layer per security middleware.
 *
 * - Accounts authenticate with their SMPP system_id and password over HTTP Basic, checked
 *   by `Accounts.authenticate` with a bind kind the account has (no bind is made, no
 *   session is counted). A success is remembered for 5 minutes (by a SHA-256 digest of the
 *   credentials), so that a scrypt hash is not recomputed on every request.
 * - The admin token (`AdminToken`) is compared in constant time; without one configured,
 *   admin-only endpoints refuse every request.
 * - POST /messages builds the submit_sm of each part (`toSubmits`) and hands them, in order,
 *   to `Submissions.submit`: the very pipeline submit_sm takes over SMPP (checks, throughput,
 *   store before answer, routing).
 * - POST /mo queues the MO with `Outcomes.mo`, where the MOs of connectors (the simulator, an
 *   upstream SMSC) go: persisted in the `DeliveryQueue` before the answer, then delivered by
 *   the `Deliverer` to the account's receiver sessions as a deliver_sm, until acknowledged.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as SmppServer from "@effect-smpp/runtime/SmppServer"
import { CommandStatus, nameOf as statusNameOf } from "@effect-smpp/schema/CommandStatus"
import * as DataCoding from "@effect-smpp/schema/DataCoding"
import { nameOf as stateNameOf } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Segmentation from "@effect-smpp/schema/Segmentation"
import * as SmppTime from "@effect-smpp/schema/SmppTime"
import * as Text from "@effect-smpp/schema/Text"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import { createHash, timingSafeEqual } from "node:crypto"
import { Accounts } from "../Accounts.js"
import type { MoEvent } from "../Connector.js"
import { DeliveryQueue } from "../DeliveryQueue.js"
import { GatewayConfig } from "../GatewayConfig.js"
import { type Message, MessageStore } from "../MessageStore.js"
import { Outcomes } from "../Outcomes.js"
import { type SubmitError, Submissions } from "../Submissions.js"
import {
  AccountAuth,
  AdminAuth,
  AdminOrAccountAuth,
  BadRequest,
  type Caller,
  CurrentAccount,
  CurrentCaller,
  Forbidden,
  GatewayApi,
  type MessageView,
  NotFound,
  type SendMessage,
  type SessionView,
  Throttled,
  Unauthorized,
  Unavailable,
  Unhealthy
} from "./HttpApi.js"
import * as Metrics from "./Metrics.js"

// ---------------------------------------------------------------------------
// the admin token

/**
 * The admin token; none disables the admin-only endpoints.
 *
 * @since 0.1.0
 * @category authentication
 */
export class AdminToken extends Context.Tag("@effect-smpp/gateway/http/AdminToken")<
  AdminToken,
  Option.Option<Redacted.Redacted<string>>
>() {}

/**
 * The admin token of `GatewayConfig` (`http.adminToken`, env `ADMIN_TOKEN`); none when not set.
 *
 * @since 0.1.0
 * @category authentication
 */
export const adminTokenFromConfig: Layer.Layer<AdminToken, never, GatewayConfig> = Layer.effect(
  AdminToken,
  Effect.map(GatewayConfig, (config) => Option.fromNullable(config.http.adminToken))
)

/**
 * A given admin token (`undefined` or `""`: none).
 *
 * @since 0.1.0
 * @category authentication
 */
export const adminToken = (token: string | Redacted.Redacted<string> | undefined): Layer.Layer<AdminToken> =>
  Layer.succeed(
    AdminToken,
    Option.filter(
      Option.map(Option.fromNullable(token), (t) => (typeof t === "string" ? Redacted.make(t) : t)),
      (t) => Redacted.value(t) !== ""
    )
  )

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

// ---------------------------------------------------------------------------
// authentication

const CACHE_TTL = Duration.toMillis(Duration.minutes(5))
const CACHE_MAX = 1024

const NO_CREDENTIALS = "credentials required: HTTP Basic with the account's system_id and password"
const WRONG_CREDENTIALS = "unknown system_id or wrong password"

/**
 * Checks an account's HTTP Basic credentials; its system_id, or Unauthorized.
 *
 * @since 0.1.0
 * @category authentication
 */
export const makeVerifier = Effect.gen(function*() {
  const accounts = yield* Accounts
  // digest of "system_id \0 password" → when the success stops counting
  const verified = new Map<string, number>()

  return (credentials: {
    readonly username: string
    readonly password: Redacted.Redacted<string>
  }): Effect.Effect<string, Unauthorized> =>
    Effect.gen(function*() {
      const systemId = credentials.username
      if (systemId === "") return yield* new Unauthorized({ error: NO_CREDENTIALS })
      const account = accounts.get(systemId)
      if (Option.isNone(account)) return yield* new Unauthorized({ error: WRONG_CREDENTIALS })
      const password = Redacted.value(credentials.password)
      const key = digest(`${systemId}\u0000${password}`).toString("base64")
      const now = yield* Clock.currentTimeMillis
      const until = verified.get(key)
      if (until !== undefined && until > now) return systemId
      // any bind kind the account has: only system_id and password are checked then
      const result = yield* Effect.either(
        accounts.authenticate({ systemId, password, kind: account.value.bindKinds[0] ?? "transceiver" })
      )
      if (Either.isLeft(result)) {
        verified.delete(key)
        return yield* new Unauthorized({ error: WRONG_CREDENTIALS })
      }
      if (verified.size >= CACHE_MAX) verified.delete(verified.keys().next().value!)
      verified.set(key, now + CACHE_TTL)
      return systemId
    })
})

const makeAdminCheck = Effect.map(AdminToken, (token) => {
  const expected = Option.map(token, (t) => digest(Redacted.value(t)))
  return (given: Redacted.Redacted<string>): Effect.Effect<void, Unauthorized> =>
    Option.match(expected, {
      onNone: () =>
        Effect.fail(new Unauthorized({ error: "admin endpoints are disabled: no admin token is configured (ADMIN_TOKEN)" })),
      onSome: (expected) =>
        timingSafeEqual(digest(Redacted.value(given).trim()), expected)
          ? Effect.void
          : Effect.fail(new Unauthorized({ error: "admin token required: Authorization: Bearer <token>" }))
    })
})

/**
 * `AccountAuth`: HTTP Basic against `Accounts`.
 *
 * @since 0.1.0
 * @category layers
 */
export const AccountAuthLive: Layer.Layer<AccountAuth, never, Accounts> = Layer.effect(
  AccountAuth,
  Effect.map(makeVerifier, (verify) =>
    AccountAuth.of({
      basic: (credentials) => Effect.map(verify(credentials), (systemId) => CurrentAccount.of({ systemId }))
    }))
)

/**
 * `AdminAuth`: the bearer token against `AdminToken`.
 *
 * @since 0.1.0
 * @category layers
 */
export const AdminAuthLive: Layer.Layer<AdminAuth, never, AdminToken> = Layer.effect(
  AdminAuth,
  Effect.map(makeAdminCheck, (check) => AdminAuth.of({ bearer: check }))
)

/**
 * `AdminOrAccountAuth`: the admin token, else an account's Basic credentials.
 *
 * @since 0.1.0
 * @category layers
 */
export const AdminOrAccountAuthLive: Layer.Layer<AdminOrAccountAuth, never, AdminToken | Accounts> = Layer.effect(
  AdminOrAccountAuth,
  Effect.gen(function*() {
    const check = yield* makeAdminCheck
    const verify = yield* makeVerifier
    return AdminOrAccountAuth.of({
      bearer: (token) => Effect.as(check(token), CurrentCaller.of({ _tag: "Admin" })),
      basic: (credentials) =>
        Effect.map(verify(credentials), (systemId): Caller => CurrentCaller.of({ _tag: "Account", systemId }))
    })
  })
)

// ---------------------------------------------------------------------------
// POST /messages: from the request to submit_sm PDUs

const UDHI = 0x40
const DIGITS = /^\+?[0-9]+$/

/**
 * TON/NPI of an address given over HTTP: digits (optionally after `+`) are an international
 * number (1/1, without the `+`); anything else is alphanumeric (5/0) as a source and
 * unknown (0/0) as a destination.
 *
 * @since 0.1.0
 * @category conversions
 */
export const addressOf = (
  address: string,
  role: "source" | "destination"
): { readonly ton: number; readonly npi: number; readonly addr: string } =>
  DIGITS.test(address)
    ? { ton: 1, npi: 1, addr: address.startsWith("+") ? address.slice(1) : address }
    : role === "source"
    ? { ton: 5, npi: 0, addr: address }
    : { ton: 0, npi: 0, addr: address }

const SMPP_TIME = /^[0-9]{12}[0-9][0-9]{2}[+\-R]$/

/**
 * An HTTP time as SMPP carries it: an SMPP time string as it is, ISO 8601 as an absolute
 * UTC time; none (`undefined` or `""`) as `""`.
 *
 * @since 0.1.0
 * @category conversions
 */
export const smppTimeOf = (value: string | undefined): Either.Either<string, string> => {
  if (value === undefined || value === "") return Either.right("")
  if (SMPP_TIME.test(value)) return Either.right(value)
  const millis = Date.parse(value)
  if (!Number.isFinite(millis)) {
    return Either.left(`"${value}" is neither an SMPP time string nor an ISO 8601 date`)
  }
  return Either.right(SmppTime.format(SmppTime.fromEpochMillis(millis)))
}

const refuseInput = (status: keyof typeof CommandStatus, error: string) => new BadRequest({ error, status })

/**
 * The submit_sm of each part of a POST /messages request (pure: the concatenation
 * `reference` is given), and the data_coding used.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toSubmits = (
  request: SendMessage,
  reference: number
): Either.Either<{ readonly pdus: ReadonlyArray<Pdu.SubmitSm>; readonly dataCoding: number }, BadRequest> =>
  Either.gen(function*() {
    if ((request.text === undefined) === (request.hex === undefined)) {
      return yield* Either.left(refuseInput("ESME_RINVMSGLEN", "give the message as either `text` or `hex`"))
    }
    const parts = request.text !== undefined
      ? yield* Either.mapLeft(
        Segmentation.split(request.text, { dataCoding: request.dataCoding ?? "auto", method: "udh8", reference }),
        (error) =>
          error._tag === "TextError"
            ? refuseInput("ESME_RSUBMITFAIL", `the text cannot be written in data_coding ${request.dataCoding}: ${error.message}`)
            : refuseInput("ESME_RINVMSGLEN", error.message)
      )
      : yield* Either.mapLeft(
        Segmentation.splitBytes(Buffer.from(request.hex!, "hex"), request.dataCoding ?? DataCoding.DataCoding.OCTET, {
          method: "udh8",
          reference
        }),
        (error) => refuseInput("ESME_RINVMSGLEN", error.message)
      )
    const scheduleDeliveryTime = yield* Either.mapLeft(
      smppTimeOf(request.scheduleDeliveryTime),
      (error) => refuseInput("ESME_RINVSCHED", `scheduleDeliveryTime: ${error}`)
    )
    const validityPeriod = yield* Either.mapLeft(
      smppTimeOf(request.validityPeriod),
      (error) => refuseInput("ESME_RINVEXPIRY", `validityPeriod: ${error}`)
    )
    const source = addressOf(request.from, "source")
    const destination = addressOf(request.to, "destination")
    const registeredDelivery = request.registeredDelivery === undefined
      ? 0
      : typeof request.registeredDelivery === "boolean"
      ? (request.registeredDelivery ? 1 : 0)
      : request.registeredDelivery
    const pdus = parts.map((part) =>
      Pdu.make("submit_sm", {
        sourceAddrTon: source.ton,
        sourceAddrNpi: source.npi,
        sourceAddr: source.addr,
        destAddrTon: destination.ton,
        destAddrNpi: destination.npi,
        destinationAddr: destination.addr,
        esmClass: part.esmClassUdhi ? UDHI : 0,
        registeredDelivery,
        dataCoding: part.dataCoding,
        scheduleDeliveryTime,
        validityPeriod,
        shortMessage: part.shortMessage
      })
    )
    return { pdus, dataCoding: parts[0].dataCoding }
  })

const statusName = (status: number): string =>
  statusNameOf(status) ?? `0x${(status >>> 0).toString(16).padStart(8, "0")}`

/**
 * The HTTP error of a refusal of the SMPP pipeline; `ids` the parts accepted before it.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromSubmitError = (
  error: SubmitError,
  ids: ReadonlyArray<string> = []
): BadRequest | Throttled | Unavailable => {
  const status = statusName(error.status)
  const accepted = ids.length > 0 ? { ids } : {}
  if (error.reason === "Throttled" || error.status === CommandStatus.ESME_RTHROTTLED) {
    return new Throttled({ error: error.message, status, ...accepted })
  }
  if (error.reason === "Unavailable") return new Unavailable({ error: error.message, status })
  return new BadRequest({ error: error.message, status, ...accepted })
}

// ---------------------------------------------------------------------------
// views

const iso = (millis: number): string => new Date(millis).toISOString()
const isoOrNull = (millis: number | null | undefined): string | null => (millis == null ? null : iso(millis))

/**
 * A stored message as GET /messages/{id} shows it.
 *
 * @since 0.1.0
 * @category views
 */
export const messageView = (message: Message): MessageView => {
  let text: string | null = null
  if (DataCoding.alphabet(message.dataCoding) !== "Octet") {
    let body = message.body
    if ((message.esmClass & UDHI) !== 0 && body.length > 0) body = body.subarray(Math.min(body.length, body[0] + 1))
    text = Text.decode(body, message.dataCoding)
  }
  return {
    id: message.id,
    from: message.sourceAddr,
    to: message.destinationAddr,
    state: stateNameOf(message.state) ?? "UNKNOWN",
    stateCode: message.state,
    errorCode: message.errorCode,
    dataCoding: message.dataCoding,
    esmClass: message.esmClass,
    text,
    hex: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString("hex"),
    registeredDelivery: message.registeredDelivery,
    receipt: message.receipt,
    scheduleDeliveryTime: isoOrNull(message.scheduleDeliveryTime),
    validityPeriod: isoOrNull(message.validityPeriod),
    createdAt: iso(message.createdAt),
    updatedAt: iso(message.updatedAt),
    doneAt: isoOrNull(message.doneAt)
  }
}

const isBound = (info: SmppServer.SessionInfo): info is SmppServer.SessionInfo & {
  readonly systemId: string
  readonly kind: NonNullable<SmppServer.SessionInfo["kind"]>
} =>
  info.systemId !== undefined && info.kind !== undefined &&
  (info.state === "BOUND_TX" || info.state === "BOUND_RX" || info.state === "BOUND_TRX")

/**
 * The bound sessions among the server's, as GET /sessions shows them.
 *
 * @since 0.1.0
 * @category views
 */
export const sessionViews = (sessions: ReadonlyArray<SmppServer.SessionInfo>): Array<SessionView> =>
  sessions.filter(isBound).map((info) => ({
    id: info.id,
    systemId: info.systemId,
    bindKind: info.kind,
    peer: info.peer ?? null,
    state: info.state,
    connectedAt: iso(info.connectedAt),
    boundAt: isoOrNull(info.boundAt),
    stats: { ...info.stats }
  }))

// ---------------------------------------------------------------------------
// groups

const submitsCounter = (result: "accepted" | "throttled" | "refused") =>
  Metric.tagged(Metrics.httpSubmits, "result", result)
const accepted = submitsCounter("accepted")
const throttled = submitsCounter("throttled")
const refused = submitsCounter("refused")

/**
 * POST /messages and GET /messages/{id}.
 *
 * @since 0.1.0
 * @category layers
 */
export const MessagesLive = HttpApiBuilder.group(GatewayApi, "messages", (handlers) =>
  Effect.gen(function*() {
    const submissions = yield* Submissions
    return handlers
      .handle("send", ({ payload }) =>
        Effect.gen(function*() {
          const { systemId } = yield* CurrentAccount
          const reference = yield* Random.nextIntBetween(0, 256)
          const { dataCoding, pdus } = yield* toSubmits(payload, reference)
          const ids: Array<string> = []
          for (const pdu of pdus) {
            const result = yield* Effect.either(submissions.submit(systemId, pdu))
            if (Either.isLeft(result)) {
              const error = fromSubmitError(result.left, ids)
              yield* Metric.increment(error._tag === "Throttled" ? throttled : refused)
              return yield* error
            }
            yield* Metric.increment(accepted)
            ids.push(result.right.message.id)
          }
          return { ids, parts: ids.length, dataCoding }
        }))
      .handle("get", ({ path }) =>
        Effect.gen(function*() {
          const { systemId } = yield* CurrentAccount
          // the store failing is the one refusal of a query
          const found = yield* Effect.mapError(
            submissions.query(systemId, path.id),
            (error) => new Unavailable({ error: error.message, status: statusName(error.status) })
          )
          if (Option.isNone(found)) return yield* new NotFound({ error: `no message ${path.id}` })
          return messageView(found.value)
        }))
  }))

/**
 * POST /mo.
 *
 * @since 0.1.0
 * @category layers
 */
export const MoLive = HttpApiBuilder.group(GatewayApi, "mo", (handlers) =>
  Effect.gen(function*() {
    const accounts = yield* Accounts
    const outcomes = yield* Outcomes
    return handlers.handle("inject", ({ payload }) =>
      Effect.gen(function*() {
        const caller = yield* CurrentCaller
        let account: string
        if (caller._tag === "Admin") {
          if (payload.account === undefined || payload.account === "") {
            return yield* refuseInput("ESME_RINVSYSID", "`account` is required with the admin token")
          }
          account = payload.account
        } else {
          if (payload.account !== undefined && payload.account !== caller.systemId) {
            return yield* new Forbidden({ error: "an account may inject MO messages only for itself" })
          }
          account = caller.systemId
        }
        if (Option.isNone(accounts.get(account))) {
          return yield* refuseInput("ESME_RINVSYSID", `unknown account "${account}"`)
        }
        let body: Uint8Array
        let dataCoding: number
        if (payload.dataCoding !== undefined) {
          const encoded = Text.encode(payload.text, payload.dataCoding)
          if (Either.isLeft(encoded)) {
            return yield* refuseInput(
              "ESME_RSUBMITFAIL",
              `the text cannot be written in data_coding ${payload.dataCoding}: ${encoded.left.message}`
            )
          }
          body = encoded.right
          dataCoding = payload.dataCoding
        } else {
          // as the simulator does: the default alphabet, else UCS-2
          const encoded = Text.encode(payload.text, DataCoding.DataCoding.SMSC_DEFAULT)
          body = Either.isRight(encoded) ? encoded.right : Text.encodeUcs2(payload.text)
          dataCoding = Either.isRight(encoded) ? DataCoding.DataCoding.SMSC_DEFAULT : DataCoding.DataCoding.UCS2
        }
        if (body.length > Segmentation.MAX_PAYLOAD) {
          return yield* refuseInput("ESME_RINVMSGLEN", `${body.length} octets do not fit one MO (max ${Segmentation.MAX_PAYLOAD})`)
        }
        const source = addressOf(payload.from, "source")
        const now = yield* Clock.currentTimeMillis
        const event: MoEvent = {
          _tag: "Mo",
          connector: "http",
          account,
          serviceType: "",
          sourceAddrTon: source.ton,
          sourceAddrNpi: source.npi,
          sourceAddr: source.addr,
          destAddrTon: 0,
          destAddrNpi: 0,
          destinationAddr: payload.to,
          esmClass: 0,
          dataCoding,
          body,
          receivedAt: now
        }
        const item = yield* outcomes.mo(event).pipe(
          Effect.tapError((error) => Effect.logError("cannot queue an MO from HTTP", error)),
          Effect.mapError(() =>
            new Unavailable({ error: "the delivery queue is unavailable", status: statusName(CommandStatus.ESME_RSYSERR) })
          )
        )
        return { id: item.id, account, dataCoding }
      }))
  }))

/**
 * GET /sessions.
 *
 * @since 0.1.0
 * @category layers
 */
export const AdminLive = HttpApiBuilder.group(GatewayApi, "admin", (handlers) =>
  Effect.gen(function*() {
    const server = yield* SmppServer.SmppServer
    return handlers.handle("sessions", () => Effect.map(server.sessions, sessionViews))
  }))

/**
 * GET /health and GET /metrics.
 *
 * @since 0.1.0
 * @category layers
 */
export const SystemLive = HttpApiBuilder.group(GatewayApi, "system", (handlers) =>
  Effect.gen(function*() {
    const server = yield* SmppServer.SmppServer
    const store = yield* MessageStore
    const queue = yield* DeliveryQueue
    const started = yield* Clock.currentTimeMillis
    const uptime = Effect.map(Clock.currentTimeMillis, (now) => Math.max(0, now - started) / 1000)
    const bound = Effect.map(server.sessions, (sessions) => sessions.filter(isBound))

    return handlers
      .handle("health", () =>
        Effect.gen(function*() {
          const seconds = yield* uptime
          const sessions = (yield* bound).length
          // a read the store must answer, of an id it never gives
          const probe = yield* store.findById("health").pipe(
            Effect.timeoutFail({ duration: Duration.seconds(5), onTimeout: () => "the store did not answer in 5 s" }),
            Effect.either
          )
          if (Either.isLeft(probe)) {
            const error = typeof probe.left === "string" ? probe.left : probe.left.message
            yield* Effect.logError("health: the message store failed", probe.left)
            return yield* new Unhealthy({ status: "unavailable", uptime: seconds, sessions, store: "error", error })
          }
          return { status: "ok" as const, uptime: seconds, sessions, store: "ok" as const }
        }))
      .handle("metrics", () =>
        Effect.gen(function*() {
          const sessions = yield* bound
          const queued = yield* Effect.orElseSucceed(queue.size(), () => Number.NaN)
          yield* Metrics.recordGatewayGauges({
            bindKinds: sessions.map((session) => session.kind),
            queued,
            uptimeSeconds: yield* uptime
          })
          return yield* Metrics.exposition
        }))
  }))

/**
 * The security middleware of the API.
 *
 * @since 0.1.0
 * @category layers
 */
export const SecurityLive: Layer.Layer<AccountAuth | AdminAuth | AdminOrAccountAuth, never, Accounts | AdminToken> =
  Layer.mergeAll(AccountAuthLive, AdminAuthLive, AdminOrAccountAuthLive)

/**
 * Every group's handlers, with the security middleware.
 *
 * @since 0.1.0
 * @category layers
 */
export const HandlersLive = Layer.mergeAll(MessagesLive, MoLive, AdminLive, SystemLive).pipe(
  Layer.provide(SecurityLive)
)
