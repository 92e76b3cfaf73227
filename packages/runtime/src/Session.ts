/**
 * One SMPP session: one connection (TCP, TLS, or a `MemorySocket`), either role, as an actor
 * in its own Scope — a reader, a writer, handler workers and timers, all on Effect's `Clock`.
 *
 * - Requests out: `request` gives each a sequence number, waits for a slot in the window
 *   (`windowSize` in flight at most), and answers the response PDU, whatever its
 *   command_status; only a missing answer (timeout, generic_nack, closed session) is an error.
 * - Requests in: bind-state checks, enquire_link and unbind are handled here; every other
 *   request goes through a bounded mailbox to the `handler`, whose answer is sent back.
 * - Bind state: moves to BOUND_* when a bind response with ESME_ROK is sent (smsc) or
 *   received (esme), to UNBOUND on unbind, to CLOSED at the end. `stateChanges` streams it.
 * - Timers: enquire_link keepalive, inactivity, session_init, response and window timeouts.
 * - Closing the Scope closes gracefully: new requests refused, the window drained, unbind
 *   sent and its response awaited, the connection closed. Nothing waits forever: every
 *   request still pending fails with `SessionClosed`.
 *
 * @example
 * ```ts
 * const esme = yield* Session.make(socket, { role: "esme" })
 * const bound = yield* esme.request(Pdu.BindTransceiver.make({ systemId: "me", password: "secret" }))
 * const resp = yield* esme.request(Pdu.SubmitSm.make({ destinationAddr: "4912345", shortMessage }))
 * ```
 *
 * @since 0.1.0
 */
import type { EncodeError } from "@effect-smpp/schema/DecodeError"
import type * as Pdu from "@effect-smpp/schema/Pdu"
import type * as Socket from "@effect/platform/Socket"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as BindState from "./BindState.js"
import * as internal from "./internal/session.js"
import type {
  GenericNack,
  InvalidBindState,
  MalformedResponse,
  ResponseTimeout,
  SessionClosed,
  WindowTimeout
} from "./SessionError.js"

/**
 * @since 0.1.0
 * @category models
 */
export type State = BindState.State

/**
 * @since 0.1.0
 * @category models
 */
export type Role = BindState.Role

/**
 * Each request that has a response, with the name of its response.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResponseNames {
  readonly bind_transmitter: "bind_transmitter_resp"
  readonly bind_receiver: "bind_receiver_resp"
  readonly bind_transceiver: "bind_transceiver_resp"
  readonly submit_sm: "submit_sm_resp"
  readonly submit_multi: "submit_multi_resp"
  readonly deliver_sm: "deliver_sm_resp"
  readonly data_sm: "data_sm_resp"
  readonly query_sm: "query_sm_resp"
  readonly cancel_sm: "cancel_sm_resp"
  readonly replace_sm: "replace_sm_resp"
  readonly enquire_link: "enquire_link_resp"
  readonly unbind: "unbind_resp"
}

/**
 * A request that has a response: what `request` takes.
 *
 * @since 0.1.0
 * @category models
 */
export type Request = Pdu.PduOf<keyof ResponseNames>

/**
 * The response PDU to a request.
 *
 * @since 0.1.0
 * @category models
 */
export type ResponseOf<R extends Request> = Pdu.PduOf<ResponseNames[R["_tag"]]>

/**
 * Any response PDU (generic_nack included).
 *
 * @since 0.1.0
 * @category models
 */
export type Response = Pdu.PduOf<ResponseNames[keyof ResponseNames] | "generic_nack">

/**
 * A request from the peer that reaches the handler: every request but enquire_link and
 * unbind (answered by the session itself), plus outbind and alert_notification (which take
 * no response: what the handler answers for them is ignored).
 *
 * @since 0.1.0
 * @category models
 */
export type Inbound = Pdu.PduOf<Exclude<keyof ResponseNames, "enquire_link" | "unbind"> | "outbind" | "alert_notification">

/**
 * A PDU `send` takes: a response (answering a request the handler left unanswered with
 * `noResponse`), generic_nack, outbind or alert_notification.
 *
 * @since 0.1.0
 * @category models
 */
export type Unsolicited = Exclude<Pdu.Pdu, Request>

/**
 * Tells the session not to answer a request (a simulator drops it on purpose; or the
 * application answers later with `send`, but prefer `answerLater` for that).
 *
 * @since 0.1.0
 * @category models
 */
export type NoResponse = typeof internal.noResponse

/**
 * @since 0.1.0
 * @category constants
 */
export const noResponse: NoResponse = internal.noResponse

/**
 * Tells the session that the application answers this request later, with `send` (its
 * response, with the request's sequence_number). Unlike `noResponse`, the session counts it
 * as owed: when the peer unbinds, it waits (up to `drainTimeout`) for every owed answer
 * before its unbind_resp, so a peer that unbinds without waiting loses no answer.
 *
 * @since 0.1.0
 * @category models
 */
export type AnswerLater = typeof internal.answerLater

/**
 * @since 0.1.0
 * @category constants
 */
export const answerLater: AnswerLater = internal.answerLater

/**
 * What the handler answers a request with:
 * - a response PDU: sent as it is, with the request's sequence_number (set if it differs);
 * - a number: the command_status to answer with, in the request's response PDU (its body
 *   left out when the status is not ESME_ROK, where the specification allows it);
 * - `noResponse`: nothing is sent;
 * - `answerLater`: the application sends the response with `send`, and the session waits for
 *   it before answering a peer's unbind.
 *
 * A handler that fails or dies is answered ESME_RSYSERR (and logged).
 *
 * @since 0.1.0
 * @category models
 */
export type HandlerResult = Response | number | NoResponse | AnswerLater

/**
 * The application's side of the session: called for each inbound request, up to
 * `handlerConcurrency` at once. It gets the session, e.g. to register it once bound.
 *
 * @since 0.1.0
 * @category models
 */
export type Handler = (request: Inbound, session: Session) => Effect.Effect<HandlerResult, unknown>

/**
 * Every way a request can fail. A response with a command_status other than ESME_ROK is not
 * a failure at this level.
 *
 * @since 0.1.0
 * @category errors
 */
export type RequestError =
  | SessionClosed
  | ResponseTimeout
  | WindowTimeout
  | GenericNack
  | MalformedResponse
  | InvalidBindState
  | EncodeError

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Who this side is. */
  readonly role: Role
  /** For inbound requests; default: answer each with ESME_RSYSERR. */
  readonly handler?: Handler | undefined
  /** A name for logs and errors; default `<role>-<n>`. */
  readonly id?: string | undefined
  /** The peer's address, for logs. */
  readonly peer?: string | undefined
  /** The largest command_length accepted; default 64 KiB. */
  readonly maxLength?: number | undefined
  /** Requests of ours in flight at most; default 10. */
  readonly windowSize?: number | undefined
  /** How long a request may wait for a slot in a full window; default: no bound. */
  readonly windowTimeout?: Duration.DurationInput | undefined
  /** The response_timer; default 30 seconds. */
  readonly responseTimeout?: Duration.DurationInput | undefined
  /** Idle time before an enquire_link; default 30 seconds, `Duration.infinity` for none. */
  readonly enquireLinkInterval?: Duration.DurationInput | undefined
  /** How long an enquire_link may wait for its response; default `responseTimeout`. */
  readonly enquireLinkTimeout?: Duration.DurationInput | undefined
  /** enquire_links unanswered in a row before the peer is dead; default 3. */
  readonly maxMissedEnquireLinks?: number | undefined
  /** The inactivity_timer: no traffic but keepalive for this long → unbind and close; default off. */
  readonly inactivityTimeout?: Duration.DurationInput | undefined
  /**
   * The session_init_timer: no bind within this time after the connection → close. Default
   * 10 seconds for the smsc role (whose timer it is in the specification), off for the esme.
   */
  readonly sessionInitTimeout?: Duration.DurationInput | undefined
  /** Bound of the graceful close's drain of the window, and of the final flush; default `responseTimeout`. */
  readonly drainTimeout?: Duration.DurationInput | undefined
  /**
   * Inbound requests waiting for a handler, at most; default 1024. When it is full, a request
   * is answered ESME_RTHROTTLED at once (backpressure the peer understands).
   */
  readonly mailboxCapacity?: number | undefined
  /** Handler calls running at once; default 16. */
  readonly handlerConcurrency?: number | undefined
  /** Refuse (InvalidBindState) requests this side may not send in the current state; default true. */
  readonly checkOutbound?: boolean | undefined
  /**
   * How often response and window timeouts are checked; default a tenth of the shortest of
   * them, between 10 ms and 1 s. A timeout fires up to this late.
   */
  readonly timerResolution?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions {
  /** This request's response timeout, instead of the session's. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * Counters since the session started.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly pdusIn: number
  readonly pdusOut: number
  readonly bytesIn: number
  readonly bytesOut: number
  /** Socket writes (each carries a batch of PDUs). */
  readonly writes: number
  /** Requests of ours answered (any command_status). */
  readonly responsesReceived: number
  /** Requests of ours in flight now. */
  readonly inFlight: number
  /** Requests of ours waiting for a window slot now. */
  readonly waiting: number
  /** Requests of ours that had to wait for a window slot. */
  readonly windowWaits: number
  readonly windowTimeouts: number
  readonly responseTimeouts: number
  /** Requests from the peer passed to the handler. */
  readonly requestsHandled: number
  /** Requests from the peer refused: wrong bind state, undecodable, or mailbox full. */
  readonly requestsRefused: number
  /** Responses with no request pending (late, or never asked for), dropped. */
  readonly unexpectedResponses: number
  readonly enquireLinksSent: number
  /** Times reading stopped because the peer sent on without reading our answers. */
  readonly readPauses: number
}

/**
 * A running session.
 *
 * @since 0.1.0
 * @category models
 */
export interface Session {
  readonly id: string
  readonly role: Role
  /**
   * Sends a request and answers its response. Assigns the sequence_number (the PDU's own is
   * ignored) and waits for a window slot. Interrupting the caller once the request was admitted
   * to the window does not recall it: it is sent, and keeps its slot until the response or the
   * timeout (registering an interruption handler per request would cost 3.5× in the loop).
   * A request still waiting for a slot is dropped when its caller is interrupted.
   */
  readonly request: <R extends Request>(
    pdu: R,
    options?: RequestOptions
  ) => Effect.Effect<ResponseOf<R>, RequestError>
  /**
   * `request` for code that is not a fiber (a batch of deliveries sent from one worker):
   * `onDone` is called once, with the response or the error, instead of resuming a fiber —
   * at most synchronously, when the request cannot be made at all. No fiber per request.
   */
  readonly unsafeRequest: <R extends Request>(
    pdu: R,
    onDone: (exit: Exit.Exit<ResponseOf<R>, RequestError>) => void,
    options?: RequestOptions
  ) => void
  /**
   * Sends a PDU that takes no response (or a response the handler deferred). outbind and
   * alert_notification with sequence_number 0 get a fresh one. Returns once queued.
   */
  readonly send: (pdu: Unsolicited) => Effect.Effect<void, SessionClosed | InvalidBindState>
  /**
   * Gives up the answer owed to the request `sequenceNumber` (its handler answered
   * `answerLater`), unsent: a simulator dropping it on purpose. The session stops waiting
   * for it before an unbind.
   */
  readonly unanswered: (sequenceNumber: number) => void
  /** Writes pre-encoded bytes as they are (test kits, simulators). */
  readonly sendBytes: (bytes: Uint8Array) => Effect.Effect<void, SessionClosed>
  /** The bind state now. */
  readonly state: Effect.Effect<State>
  /** The bind state now, then every change, ending after CLOSED. */
  readonly stateChanges: Stream.Stream<State>
  /** Waits for the end of the session and tells why it ended. */
  readonly closed: Effect.Effect<SessionClosed>
  /** Closes gracefully (drain, unbind if bound, close) with reason `Closed`; answers how it ended. */
  readonly close: Effect.Effect<SessionClosed>
  /** As `close`, with reason `Unbound`. */
  readonly unbind: Effect.Effect<SessionClosed>
  /** Closes at once: no drain, no unbind; pending requests fail `SessionClosed` (`Aborted`). */
  readonly abort: Effect.Effect<SessionClosed>
  readonly stats: Effect.Effect<Stats>
}

/**
 * Starts a session over a socket. Its reader, writer, workers and timers live until the
 * session ends or the Scope closes (which closes the session gracefully first).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (socket: Socket.Socket, options: Options) => Effect.Effect<Session, never, Scope.Scope> =
  internal.make

/**
 * The session's Effect metrics: `smpp_pdus_in` / `smpp_pdus_out` (counters tagged `command`),
 * `smpp_requests_in_flight` (gauge), `smpp_window_waits`, `smpp_window_timeouts`,
 * `smpp_response_timeouts` (counters), `smpp_sessions` (gauge tagged `state`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = internal.metrics
