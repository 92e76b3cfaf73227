/**
 * The SMSC side: a server that accepts ESME connections (TCP, TLS, or any socket handed to
 * it), authenticates their binds, answers their requests with the application's handlers,
 * keeps a registry of bound sessions, and delivers deliver_sm / data_sm to an account's
 * receiver sessions until they are acknowledged.
 *
 * Each connection is one `Session` in its own fiber, supervised in a `FiberMap`: one failing
 * never touches another. Closing the server's Scope stops listening and closes every session
 * gracefully (drain, unbind, close).
 *
 * @example
 * ```ts
 * const server = yield* SmppServer.make({
 *   port: 2775,
 *   authenticate: SmppServer.passwords({ alice: "secret" }),
 *   handlers: {
 *     submit_sm: (pdu) => Effect.succeed(Pdu.make("submit_sm_resp", { messageId: "42" }))
 *   }
 * })
 * yield* server.deliver("alice", Pdu.make("deliver_sm", { sourceAddr: "4912345", destinationAddr: "1234", shortMessage }))
 * ```
 *
 * @since 0.1.0
 */
import type * as Pdu from "@effect-smpp/schema/Pdu"
import type * as Socket from "@effect/platform/Socket"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Queue from "effect/Queue"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as Tls from "node:tls"
import type * as BindState from "./BindState.js"
import * as internal from "./internal/server.js"
import type * as Resend from "./Resend.js"
import type * as Session from "./Session.js"
import type { SessionClosed } from "./SessionError.js"
import type * as Transport from "./Transport.js"

/**
 * A bind request, as `authenticate` sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface BindRequest {
  readonly kind: BindState.BindKind
  readonly systemId: string
  readonly password: string
  readonly systemType: string
  readonly interfaceVersion: number
  readonly addrTon: number
  readonly addrNpi: number
  readonly addressRange: string
  /** The session asking. */
  readonly sessionId: string
  readonly peer: string | undefined
}

/**
 * Decides a bind: ESME_ROK accepts it; any other command_status refuses it with that status
 * (ESME_RINVSYSID, ESME_RINVPASWD, ESME_RBINDFAIL, …). A failure refuses it with ESME_RBINDFAIL.
 *
 * @since 0.1.0
 * @category models
 */
export type Authenticate<R = never> = (bind: BindRequest) => Effect.Effect<number, unknown, R>

/**
 * The requests an ESME sends that reach the application.
 *
 * @since 0.1.0
 * @category models
 */
export type RequestName = "submit_sm" | "submit_multi" | "data_sm" | "query_sm" | "cancel_sm" | "replace_sm"

/**
 * Who sent a request: the bound session and its account.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestContext {
  readonly sessionId: string
  readonly systemId: string
  readonly kind: BindState.BindKind
  readonly peer: string | undefined
  readonly session: Session.Session
}

/**
 * A handler's answer: the response PDU, a command_status (ESME_ROK: an empty response),
 * `Session.answerLater` (answer later with `context.session.send`; a peer's unbind waits for
 * it), or `Session.noResponse` (never answered).
 *
 * @since 0.1.0
 * @category models
 */
export type HandlerResult<K extends RequestName> =
  | Pdu.PduOf<Session.ResponseNames[K]>
  | number
  | Session.NoResponse
  | Session.AnswerLater

/**
 * The application's handlers, by request. A request without a handler is answered
 * ESME_RINVCMDID; a handler that fails is answered ESME_RSYSERR.
 *
 * @since 0.1.0
 * @category models
 */
export type Handlers<R = never> = {
  readonly [K in RequestName]?: (
    request: Pdu.PduOf<K>,
    context: RequestContext
  ) => Effect.Effect<HandlerResult<K>, unknown, R>
}

/**
 * Options of each session, as `Session.Options` (role, handler, id and peer are the server's).
 * Defaults: session_init 10 s, enquire_link every 30 s idle, dead after 3 missed.
 *
 * @since 0.1.0
 * @category models
 */
export type SessionOptions = Omit<Session.Options, "role" | "handler" | "id" | "peer">

/**
 * @since 0.1.0
 * @category models
 */
export interface Config<R = never> {
  /** Interface to listen on; default `0.0.0.0`. */
  readonly host?: string | undefined
  /** Port to listen on (0: any free one). Without it, the server takes sockets only through `handle`. */
  readonly port?: number | undefined
  /** Listen with TLS: node's server options, at least `key` and `cert`. */
  readonly tls?: Tls.TlsOptions | undefined
  /** system_id in bind responses and outbinds; default `effect-smpp`. */
  readonly systemId?: string | undefined
  /** A name for session ids and logs; default `smsc`. */
  readonly name?: string | undefined
  readonly authenticate: Authenticate<R>
  readonly handlers?: Handlers<R> | undefined
  readonly session?: SessionOptions | undefined
  /** The retry schedule of `deliver`; default `Resend.deliveryPolicy()` (forever, backoff 1 s → 60 s). */
  readonly deliverySchedule?: Schedule.Schedule<unknown, Resend.Outcome> | undefined
}

/**
 * A session of the server, as listed.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionInfo {
  readonly id: string
  readonly peer: string | undefined
  /** Absent until bound. */
  readonly systemId: string | undefined
  readonly kind: BindState.BindKind | undefined
  readonly state: Session.State
  readonly stats: Session.Stats
  /** Clock milliseconds. */
  readonly connectedAt: number
  readonly boundAt: number | undefined
  readonly session: Session.Session
}

/**
 * What happens to the server's sessions.
 *
 * @since 0.1.0
 * @category models
 */
export type ServerEvent = Data.TaggedEnum<{
  Connected: { readonly sessionId: string; readonly peer: string | undefined }
  Bound: {
    readonly sessionId: string
    readonly peer: string | undefined
    readonly systemId: string
    readonly kind: BindState.BindKind
  }
  BindRefused: { readonly sessionId: string; readonly systemId: string; readonly status: number }
  Closed: { readonly sessionId: string; readonly systemId: string | undefined; readonly reason: SessionClosed }
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const ServerEvent = Data.taggedEnum<ServerEvent>()

/**
 * @since 0.1.0
 * @category models
 */
export interface DeliverOptions {
  /** This delivery's retry schedule, instead of the server's. */
  readonly schedule?: Schedule.Schedule<unknown, Resend.Outcome> | undefined
  /** Each attempt's response timeout, instead of the session's. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * A delivery that did not get ESME_ROK.
 *
 * - `Refused`: the ESME answered a final status (ESME_RX_P_APPN, ESME_RX_R_APPN, or what a
 *   custom schedule takes as final): `status`.
 * - `Exhausted`: the schedule gave up; `status` is the last answer, absent when there was none
 *   (timeout, or no receiver session bound).
 * - `Invalid`: the PDU could not be encoded.
 * - `ServerClosed`: the server shut down before it was acknowledged.
 *
 * @since 0.1.0
 * @category errors
 */
export class DeliveryError extends Data.TaggedError("DeliveryError")<{
  readonly reason: "Refused" | "Exhausted" | "Invalid" | "ServerClosed"
  readonly systemId: string
  readonly status?: number | undefined
  readonly cause?: unknown
}> {
  override get message(): string {
    const status = this.status === undefined ? "" : ` (status 0x${this.status.toString(16)})`
    return this.reason === "Refused"
      ? `delivery to ${this.systemId} refused${status}`
      : this.reason === "Exhausted"
      ? `delivery to ${this.systemId} not acknowledged before the retry schedule ended${status}`
      : this.reason === "Invalid"
      ? `delivery to ${this.systemId} could not be encoded`
      : `delivery to ${this.systemId} not acknowledged before the server shut down${status}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface OutbindOptions {
  readonly systemId: string
  readonly password: string
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly tls?: boolean | Tls.ConnectionOptions | undefined
  /** Connect with this instead of host/port (in-memory, tests). */
  readonly connect?: Transport.Dialer | undefined
}

/**
 * An outbind that did not end with a bound session.
 *
 * @since 0.1.0
 * @category errors
 */
export class OutbindError extends Data.TaggedError("OutbindError")<{
  readonly reason: "Connect" | "NotBound"
  readonly cause?: unknown
}> {
  override get message(): string {
    return this.reason === "Connect" ? "outbind: cannot connect to the ESME" : "outbind: the ESME did not bind"
  }
}

/**
 * A running server.
 *
 * @since 0.1.0
 * @category models
 */
export interface SmppServer {
  /** Where it listens; absent without a port. */
  readonly address: Transport.Address | undefined
  /** Every connected session, bound or not. */
  readonly sessions: Effect.Effect<ReadonlyArray<SessionInfo>>
  /** The bound sessions of an account. */
  readonly sessionsOf: (systemId: string) => Effect.Effect<ReadonlyArray<SessionInfo>>
  /** Connections, binds, refusals and closes, from the moment the stream starts. */
  readonly events: Stream.Stream<ServerEvent>
  /** The same events in a queue, subscribed when this returns (none missed after it). */
  readonly subscribe: Effect.Effect<Queue.Dequeue<ServerEvent>, never, Scope.Scope>
  /**
   * Delivers to a receiver (RX/TRX) session of the account, round robin, until ESME_ROK: a
   * temporary refusal (ESME_RX_T_APPN …) or no answer is retried on the schedule, a closed
   * session gives way to another of the account at once, and with none bound the delivery
   * waits (on the schedule) for one to bind. Answers the response.
   */
  readonly deliver: <P extends Pdu.DeliverSm | Pdu.DataSm>(
    systemId: string,
    pdu: P,
    options?: DeliverOptions
  ) => Effect.Effect<Session.ResponseOf<P>, DeliveryError>
  /** Connects to an ESME, sends outbind, and answers once the ESME bound on that connection. */
  readonly outbind: (options: OutbindOptions) => Effect.Effect<SessionInfo, OutbindError>
  /** Serves a connection from elsewhere (a `MemorySocket`, another transport), supervised like the rest. */
  readonly handle: (socket: Socket.Socket, options?: { readonly peer?: string | undefined }) => Effect.Effect<void>
  /** Closes a session: gracefully (unbind) by default, or at once. Answers whether it existed. */
  readonly disconnect: (sessionId: string, options?: { readonly graceful?: boolean | undefined }) => Effect.Effect<boolean>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const SmppServer: Context.Tag<SmppServer, SmppServer> = Context.GenericTag<SmppServer>(
  "@effect-smpp/runtime/SmppServer"
)

/**
 * Starts a server; it runs until the Scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <R = never>(config: Config<R>) => Effect.Effect<SmppServer, Transport.TransportError, Scope.Scope | R> =
  internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = <R = never>(config: Config<R>): Layer.Layer<SmppServer, Transport.TransportError, R> =>
  Layer.scoped(SmppServer, make(config))

/**
 * An `authenticate` over a fixed table of passwords: an unknown system_id is refused
 * ESME_RINVSYSID, a wrong password ESME_RINVPASWD.
 *
 * @since 0.1.0
 * @category constructors
 */
export const passwords: (accounts: Readonly<Record<string, string>>) => Authenticate = internal.passwords
