/**
 * The session actor: one object per session owns the mutable state (the pending map, the
 * window, the bind state, the keepalive state); everything that touches it runs on the JS
 * thread without awaiting in between, so no locks are needed.
 *
 * Cost model: per request, one `Effect.async` registration (which also does the window
 * admission), one entry in one `Map`, one push to the outbound list; per batch (what was
 * queued until the end of the current microtask), one encode into one buffer, one write, one
 * clock read (the response deadlines of the whole batch). No fiber, no Deferred and no
 * semaphore per request.
 *
 * Memory: an idle session over a node socket holds no fiber at all. Reading and writing are
 * the socket's own callbacks (see wire.ts); every deadline (keepalive, inactivity,
 * session_init, response, window) goes to a `Deadlines` heap shared with the server's other
 * sessions, whose one fiber sleeps on the Clock; handler workers, the logger and the closing
 * supervisor are fibers started when there is work for them. State and behaviour live on one
 * class, so a session is one object and a handful of closures rather than a hundred.
 *
 * Measured while choosing (effect 3.22, 100 callers, the bare `Effect.async` + Map loop of
 * bench/SessionLoop.ts, same process): a forked timer fiber per request (or `Effect.timeout`)
 * took the loop from ~400–780k to ~18–22k cycles/s, hence deadlines; an Effect `Semaphore`
 * for the window took it to ~120–155k, so the window is a counter plus a FIFO of waiting
 * callbacks; `Queue.take` per request for the handler workers cost ~40% of the session loop,
 * hence `Mailbox` (fair-share batches, handlers that answer with an `Exit` served without
 * running an effect — in the reader itself when no other handler is running). Idle sessions
 * on one server (bench/ClientServer.ts, 10,000 of them): ~75 KiB of heap each with a reader,
 * a writer and a timer fiber per session and a closure per function; ~3 KiB now.
 */
import * as Codec from "@effect-smpp/schema/Codec"
import { CommandId, type CommandName, commandNames, nameOf, responseNameOf } from "@effect-smpp/schema/CommandId"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { EncodeError } from "@effect-smpp/schema/DecodeError"
import * as Pdu from "@effect-smpp/schema/Pdu"
import type * as Socket from "@effect/platform/Socket"
import type * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as PubSub from "effect/PubSub"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Net from "node:net"
import * as BindState from "../BindState.js"
import * as Framer from "../Framer.js"
import * as Keepalive from "../Keepalive.js"
import * as SequenceNumbers from "../SequenceNumbers.js"
import type * as Session from "../Session.js"
import {
  type CloseReason,
  GenericNack,
  InvalidBindState,
  MalformedResponse,
  ResponseTimeout,
  SessionClosed,
  WindowTimeout
} from "../SessionError.js"
import * as Deadlines from "./deadlines.js"
import { CloseError, type Handlers, NetWire, PlatformWire, type Wire } from "./wire.js"

/** @internal */
export const noResponse: unique symbol = Symbol.for("@effect-smpp/runtime/Session/noResponse")

/** @internal */
export const answerLater: unique symbol = Symbol.for("@effect-smpp/runtime/Session/answerLater")

// ---------------------------------------------------------------------------------------------
// Metrics. Tagged metrics are updated through the base metric with one label array per tag
// value, kept forever: `Metric.tagged` would allocate a label array (and miss the hook cache)
// on every update.

const pdusIn = Metric.counter("smpp_pdus_in", { description: "SMPP PDUs received, by command" })
const pdusOut = Metric.counter("smpp_pdus_out", { description: "SMPP PDUs sent, by command" })
const requestsInFlight = Metric.gauge("smpp_requests_in_flight", { description: "Requests awaiting their response" })
const windowWaits = Metric.counter("smpp_window_waits", { description: "Requests that waited for a window slot" })
const windowTimeouts = Metric.counter("smpp_window_timeouts", { description: "Requests that never got a window slot" })
const responseTimeouts = Metric.counter("smpp_response_timeouts", { description: "Requests with no response in time" })
const sessions = Metric.gauge("smpp_sessions", { description: "Sessions, by bind state" })

/** @internal */
export const metrics = { pdusIn, pdusOut, requestsInFlight, windowWaits, windowTimeouts, responseTimeouts, sessions }

const commandLabels = Object.fromEntries(
  commandNames.map((name) => [name, [MetricLabel.make("command", name)]])
) as unknown as Record<CommandName, ReadonlyArray<MetricLabel.MetricLabel>>
const rawLabels: ReadonlyArray<MetricLabel.MetricLabel> = [MetricLabel.make("command", "raw")]
const stateLabels = Object.fromEntries(
  BindState.states.map((state) => [state, [MetricLabel.make("state", state)]])
) as unknown as Record<BindState.State, ReadonlyArray<MetricLabel.MetricLabel>>
const NO_LABELS: ReadonlyArray<MetricLabel.MetricLabel> = []

// ---------------------------------------------------------------------------------------------
// Requests of ours.

const WAITING = 0
const IN_FLIGHT = 1
const DONE = 2

const USER = 0
const KEEPALIVE = 1
const UNBIND = 2

type Resume = (effect: Effect.Effect<Pdu.Pdu, Session.RequestError>) => void

class Pending {
  seq = 0
  status = WAITING
  /** Set by the writer when the PDU goes out; Infinity until then. */
  deadline = Number.POSITIVE_INFINITY
  waitingSince = 0
  written = false
  constructor(
    readonly pdu: Pdu.Pdu,
    readonly kind: number,
    readonly timeout: number,
    public resume: Resume | undefined
  ) {}
}

class Flush {
  constructor(readonly done: () => void) {}
}

/** A response given by a handler, to go out with the request's sequence number. */
class Reply {
  constructor(readonly pdu: Pdu.Pdu, readonly seq: number) {}
}

/** What the writer takes: a request of ours, any other PDU (sequence number as given), bytes. */
type Outbound = Pending | Reply | Pdu.Pdu | Uint8Array | Flush

const MAX_BATCH = 4096

/**
 * The mailbox of inbound requests: a bounded FIFO drained by the handler workers. A worker
 * takes a fair share of what waits (size / workers, at least one) and serves it in order, so
 * a burst costs a few wake-ups rather than one per request, and no request waits behind
 * another worker's batch while a worker is idle. Workers are started when requests arrive and
 * end when the mailbox is empty: an idle session holds none.
 */
class Mailbox<A> {
  private items: Array<A | undefined> = []
  private head = 0
  constructor(readonly capacity: number, readonly workers: number) {}

  get size(): number {
    return this.items.length - this.head
  }

  offer(item: A): boolean {
    if (this.items.length - this.head >= this.capacity) return false
    this.items.push(item)
    return true
  }

  takeShare(): Array<A> {
    const n = Math.ceil((this.items.length - this.head) / this.workers)
    const out = this.items.slice(this.head, this.head + n) as Array<A>
    this.head += n
    if (this.head === this.items.length) {
      this.items.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head)
      this.head = 0
    }
    return out
  }
}

/** A request whose handler was called already (by the reader), and the effect it answered. */
class Job {
  constructor(readonly request: Session.Inbound, readonly effect: Effect.Effect<Session.HandlerResult, unknown>) {}
}

// ---------------------------------------------------------------------------------------------
// Answers built without the Schema (its constructor validates, ~10 µs a call): a prepared value
// per response, copied with the status and the sequence number.
// - OK: with the fields a response may leave out filled in (an empty message_id / system_id).
// - An error: without them, so that the body is left out where the specification allows it
//   (submit_sm_resp, bind_*_resp, …) and sent with empty fields where it is mandatory
//   (query_sm_resp).

const trailingFields: Partial<Record<CommandName, object>> = {
  submit_sm_resp: { messageId: "" },
  submit_multi_resp: { messageId: "" },
  deliver_sm_resp: { messageId: "" },
  data_sm_resp: { messageId: "" },
  bind_transmitter_resp: { systemId: "" },
  bind_receiver_resp: { systemId: "" },
  bind_transceiver_resp: { systemId: "" }
}

const okTemplates = new Map<CommandName, Pdu.Pdu>()
const errorTemplates = new Map<CommandName, Pdu.Pdu>()

const template = (name: CommandName, ok: boolean): Pdu.Pdu => {
  const cache = ok ? okTemplates : errorTemplates
  let value = cache.get(name)
  if (value === undefined) {
    const schema = Pdu.schemas[name] as unknown as { make: (fields: object) => Pdu.Pdu }
    value = schema.make(ok ? trailingFields[name] ?? {} : {})
    cache.set(name, value)
  }
  return value
}

/** The response `name` with a status and a sequence number. */
const responseWith = (name: CommandName, commandStatus: number, sequenceNumber: number): Pdu.Pdu =>
  ({ ...template(name, commandStatus === CommandStatus.ESME_ROK), commandStatus, sequenceNumber }) as Pdu.Pdu

const isBindResponse = (name: CommandName): boolean =>
  name === "bind_transmitter_resp" || name === "bind_receiver_resp" || name === "bind_transceiver_resp"

const readU32 = (bytes: Uint8Array, at: number): number =>
  ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0

const millis = (input: Duration.DurationInput | undefined, fallback: number): number =>
  input === undefined ? fallback : Duration.toMillis(input)

let sessionCounter = 0

/**
 * The encode buffer, one for every session: a batch is encoded and copied out in one
 * synchronous step, so sessions never share it at the same time, and an idle session keeps
 * no buffer of its own.
 */
const buffer = new Codec.Writer(16 * 1024)

interface LogEvent {
  readonly level: LogLevel.LogLevel
  readonly message: string
}

// ---------------------------------------------------------------------------------------------
// Writes: sessions with something queued are flushed together at the end of the microtask in
// which the first of them queued it, so that everything the fibers resumed by one chunk of
// input send goes out in one write per session.

let dirty: Array<SessionCore> = []
/** Set while a batch is encoded into the shared buffer: no flush may start then. */
let encoding = false

/**
 * A batch this long goes out at once rather than at the end of the microtask: the peer starts
 * on it while the rest is produced. Waiting for the whole window makes the two sides take
 * turns (measured at window 100: one write of 100 PDUs per round trip, each side idle half the
 * time). 64 did best at window 100 (bench/ClientServer.ts, quiet machine: 182–231k/s against
 * 182–209k with 32, 149–164k with 100).
 */
const EAGER_BATCH = 64
let flushQueued = false

const flushAll = (): void => {
  flushQueued = false
  const sessions = dirty
  dirty = []
  for (let i = 0; i < sessions.length; i++) sessions[i]!.flush()
}

// ---------------------------------------------------------------------------------------------

/** What a session needs from its surroundings; a server's sessions share one. */
export interface Env {
  readonly runtime: Runtime.Runtime<never>
  readonly clock: Clock.Clock
  readonly deadlines: Deadlines.Deadlines
  readonly minimumLogLevel: LogLevel.LogLevel
  /** Called once a session is closed (a server's registry). */
  readonly onClosed?: ((session: SessionCore, reason: SessionClosed) => void) | undefined
}

/** Settled configuration: a server's sessions share one. */
export class Settings {
  readonly maxLength: number
  readonly windowSize: number
  readonly windowTimeout: number
  readonly responseTimeout: number
  readonly sessionInit: number
  readonly drainTimeout: number
  readonly keepalive: Keepalive.Config
  readonly resolution: number
  readonly checkOutbound: boolean
  readonly handler: Session.Handler
  readonly concurrency: number
  readonly mailboxCapacity: number
  readonly decodeOptions: { readonly maxLength: number }

  constructor(options: Session.Options) {
    const role = options.role
    this.maxLength = options.maxLength ?? Framer.DEFAULT_MAX_LENGTH
    this.windowSize = Math.max(1, Math.floor(options.windowSize ?? 10))
    this.windowTimeout = millis(options.windowTimeout, Number.POSITIVE_INFINITY)
    this.responseTimeout = millis(options.responseTimeout, 30_000)
    this.sessionInit = millis(options.sessionInitTimeout, role === "smsc" ? 10_000 : Number.POSITIVE_INFINITY)
    this.drainTimeout = millis(options.drainTimeout, this.responseTimeout)
    const inactivity = millis(options.inactivityTimeout, Number.POSITIVE_INFINITY)
    this.keepalive = Keepalive.config({
      interval: options.enquireLinkInterval ?? 30_000,
      responseTimeout: options.enquireLinkTimeout ?? this.responseTimeout,
      maxMissed: options.maxMissedEnquireLinks ?? 3,
      inactivity: Number.isFinite(inactivity) ? inactivity : undefined
    })
    this.resolution = options.timerResolution !== undefined
      ? Math.max(1, Duration.toMillis(options.timerResolution))
      : Math.min(1000, Math.max(10, Math.min(this.responseTimeout, this.windowTimeout) / 10))
    this.checkOutbound = options.checkOutbound ?? true
    this.handler = options.handler ?? (() => Effect.succeed(CommandStatus.ESME_RSYSERR))
    this.concurrency = Math.max(1, Math.floor(options.handlerConcurrency ?? 16))
    this.mailboxCapacity = Math.max(1, options.mailboxCapacity ?? 1024)
    this.decodeOptions = { maxLength: this.maxLength }
  }
}

const NONE_PENDING: Map<number, Pending> = new Map()

/** @internal */
export class SessionCore implements Session.Session, Deadlines.Timed, Handlers {
  current: BindState.State = "OPEN"
  readonly openedAt: number
  /** Why it closes (the first reason wins); set from the first close request on. */
  closing: SessionClosed | undefined = undefined
  /** Set once closed: what `closed` answers. */
  private closedWith: SessionClosed | undefined = undefined
  private closedWaiters: Array<(reason: SessionClosed) => void> | undefined = undefined
  private supervising = false
  private graceful = true
  private hardStop: Deferred.Deferred<void> | undefined = undefined
  /** Set by the supervisor once closing: nothing is started any more. */
  private finished = false
  private socketGone = false
  private readStopped = false
  /** The wire asked to wait (a slow peer): what is queued waits too. */
  private writeBlocked = false
  /** Reading stopped while writes wait: set when a blocked peer keeps sending. */
  private readPaused = false
  private inDirty = false
  private outbound: Array<Outbound> = []
  /** Requests of ours in flight; `NONE_PENDING` (shared, never written) while there are none. */
  private pending: Map<number, Pending> = NONE_PENDING
  private inFlight = 0
  private waiters: Array<Pending | undefined> = []
  private waitHead = 0
  private waiting = 0
  private drainWaiter: (() => void) | undefined = undefined
  /**
   * The peer's requests not answered yet: with the handler, or to be answered through `send`
   * (`answerLater`, their sequence numbers in `later`). A peer's unbind is answered once they
   * are (see `supervisor`).
   */
  private owed = 0
  private later: Set<number> | undefined = undefined
  private owedWaiter: (() => void) | undefined = undefined
  /** The sequence number of the peer's unbind, answered when the session closes. */
  private peerUnbind: number | undefined = undefined
  private readonly sequence = SequenceNumbers.make()
  private readonly framer: Framer.Framer
  private keepalive: Keepalive.State
  private heartbeatOn = true
  timerAt = Number.POSITIVE_INFINITY
  private readonly stats_ = {
    pdusIn: 0,
    pdusOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    writes: 0,
    responsesReceived: 0,
    windowWaits: 0,
    windowTimeouts: 0,
    responseTimeouts: 0,
    requestsHandled: 0,
    requestsRefused: 0,
    unexpectedResponses: 0,
    enquireLinksSent: 0,
    readPauses: 0
  }
  private mailbox: Mailbox<Session.Inbound | Job> | undefined = undefined
  private workers = 0
  /** Handler workers and the logger, interrupted on close. */
  private fibers: Set<Fiber.RuntimeFiber<unknown, unknown>> | undefined = undefined
  private events: Array<LogEvent> | undefined = undefined
  private logging = false
  private stateHub: PubSub.PubSub<BindState.State> | undefined = undefined
  /** For logs: set by the server once bound. */
  systemId: string | undefined = undefined

  constructor(
    readonly id: string,
    readonly role: BindState.Role,
    readonly peer: string | undefined,
    readonly settings: Settings,
    private readonly wire: Wire,
    private readonly env: Env
  ) {
    this.openedAt = env.clock.unsafeCurrentTimeMillis()
    this.framer = Framer.make({ maxLength: settings.maxLength })
    this.keepalive = Keepalive.make(settings.keepalive, this.openedAt)
    sessions.unsafeModify(1, stateLabels.OPEN)
  }

  /** Log annotations: session id, role, peer and (once bound, on a server) system_id. */
  annotations(): Record<string, string> {
    const annotations: Record<string, string> = { session: this.id, role: this.role }
    if (this.peer !== undefined) annotations.peer = this.peer
    if (this.systemId !== undefined) annotations.system_id = this.systemId
    return annotations
  }

  /** Starts reading and the timers. */
  start(): void {
    this.wire.start(this)
    this.scheduleTimer(this.now())
  }

  // --- wire callbacks (the wire calls them as methods of this object)

  onEnd(error: unknown): void {
    this.socketGone = true
    if (error === undefined || (error instanceof CloseError && error.reason === "Close")) {
      this.requestClose("PeerClosed", false, error)
    } else {
      this.requestClose("SocketError", false, error)
    }
  }

  onDrain(): void {
    this.writeBlocked = false
    if (this.readPaused) {
      this.readPaused = false
      this.wire.reading(true)
    }
    if (this.outbound.length > 0) this.markDirty()
  }

  private now(): number {
    return this.env.clock.unsafeCurrentTimeMillis()
  }

  // --- logs: events wait here for a logger fiber, started when the first one comes

  log(level: LogLevel.LogLevel, message: string): void {
    if (LogLevel.lessThan(level, this.env.minimumLogLevel)) return
    const events = (this.events ??= [])
    // Bounded, as a sliding queue: the newest are kept.
    if (events.length >= 1024) events.shift()
    events.push({ level, message })
    if (!this.logging && !this.finished) {
      this.logging = true
      this.spawn(this.drainLogs())
    }
  }

  private drainLogs(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const events = this.events
      if (events === undefined || events.length === 0) {
        this.logging = false
        this.events = undefined
        return Effect.void
      }
      const batch = events.splice(0, events.length)
      return Effect.zipRight(
        Effect.forEach(batch, (event) => Effect.logWithLevel(event.level, event.message), { discard: true }),
        this.drainLogs()
      )
    })
  }

  /** Forks `effect` with the session's log annotations; interrupted when the session closes. */
  private spawn(effect: Effect.Effect<void>): void {
    const fibers = (this.fibers ??= new Set())
    const fiber = Runtime.runFork(this.env.runtime)(Effect.annotateLogs(effect, this.annotations()), {
      immediate: false
    })
    fibers.add(fiber)
    fiber.addObserver(() => {
      fibers.delete(fiber)
      // An idle session keeps no empty set (nor mailbox, below).
      if (fibers.size === 0 && this.fibers === fibers) this.fibers = undefined
    })
  }

  // --- state

  private setState(next: BindState.State): void {
    const previous = this.current
    if (previous === next || previous === "CLOSED") return
    sessions.unsafeModify(-1, stateLabels[previous])
    if (next !== "CLOSED") sessions.unsafeModify(1, stateLabels[next])
    this.current = next
    this.stateHub?.unsafeOffer(next)
    this.log(LogLevel.Debug, `state ${previous} -> ${next}`)
  }

  /** Asks the supervisor to close; the first reason wins. Graceful closes drain and unbind. */
  requestClose(reason: CloseReason, graceful: boolean, cause?: unknown): void {
    if (this.closing === undefined) {
      this.closing = cause === undefined
        ? new SessionClosed({ reason, sessionId: this.id })
        : new SessionClosed({ reason, sessionId: this.id, cause })
    }
    if (!this.supervising) {
      // Started now rather than parked from the start.
      this.supervising = true
      this.graceful = graceful
      this.hardStop = Deferred.unsafeMake<void>(FiberId.none)
      if (!graceful) Deferred.unsafeDone(this.hardStop, Exit.void)
      Runtime.runFork(this.env.runtime)(Effect.annotateLogs(this.supervisor(), this.annotations()), {
        immediate: false
      })
    } else if (!graceful) {
      Deferred.unsafeDone(this.hardStop!, Exit.void)
    }
  }

  // --- the window and the pending map

  private admit(entry: Pending): void {
    entry.seq = this.sequence.next(this.pending)
    entry.status = IN_FLIGHT
    if (this.pending === NONE_PENDING) this.pending = new Map()
    this.pending.set(entry.seq, entry)
    if (entry.kind === USER) {
      this.inFlight++
      requestsInFlight.unsafeModify(1, NO_LABELS)
    }
    if (entry.pdu._tag === "unbind" && BindState.isBound(this.current)) this.setState("UNBOUND")
    this.enqueue(entry)
  }

  private admitWaiters(): void {
    const waiters = this.waiters
    while (this.inFlight < this.settings.windowSize && this.waitHead < waiters.length) {
      const next = waiters[this.waitHead]!
      waiters[this.waitHead++] = undefined
      if (next.status !== WAITING) continue
      this.waiting--
      this.admit(next)
    }
    if (this.waitHead === waiters.length) {
      waiters.length = 0
      this.waitHead = 0
    } else if (this.waitHead > 1024 && this.waitHead * 2 > waiters.length) {
      waiters.splice(0, this.waitHead)
      this.waitHead = 0
    }
  }

  /** Settles a request in flight: frees its slot, resumes its caller, admits the next. */
  private settle(entry: Pending, result: Effect.Effect<Pdu.Pdu, Session.RequestError>): void {
    if (entry.status !== IN_FLIGHT) return
    entry.status = DONE
    this.pending.delete(entry.seq)
    const resume = entry.resume
    entry.resume = undefined
    if (entry.kind === USER) {
      this.inFlight--
      requestsInFlight.unsafeModify(-1, NO_LABELS)
      if (resume !== undefined) resume(result)
      if (this.waiting > 0) this.admitWaiters()
      if (this.inFlight === 0 && this.drainWaiter !== undefined) {
        const drained = this.drainWaiter
        this.drainWaiter = undefined
        drained()
      }
    } else if (resume !== undefined) {
      resume(result)
    }
  }

  /** The caller of a request was interrupted (a request that waited, or queued behind a blocked write). */
  private cancel(entry: Pending): void {
    entry.resume = undefined
    if (entry.status === WAITING) {
      entry.status = DONE
      this.waiting--
    } else if (entry.status === IN_FLIGHT && !entry.written) {
      // Not on the wire yet: the writer will skip it, the slot is free at once.
      this.settle(entry, Effect.interrupt)
    }
    // On the wire: the peer counts it in its window too, so the slot stays taken until the
    // response or the timeout.
  }

  private submit(
    pdu: Pdu.Pdu,
    kind: number,
    timeout: number,
    bypassClosing: boolean
  ): Effect.Effect<Pdu.Pdu, Session.RequestError> {
    return Effect.async<Pdu.Pdu, Session.RequestError>((resume) => this.register(pdu, kind, timeout, bypassClosing, resume))
  }

  /**
   * Admits a request (or queues it for a window slot); `resume` gets its outcome, always an
   * `Exit`. Answers the canceler, when the caller may still withdraw it.
   */
  private register(
    pdu: Pdu.Pdu,
    kind: number,
    timeout: number,
    bypassClosing: boolean,
    resume: Resume
  ): Effect.Effect<void> | undefined {
    const refused = this.refusal(pdu, kind, bypassClosing)
    if (refused !== undefined) {
      resume(Exit.fail(refused))
      return undefined
    }
    const entry = new Pending(pdu, kind, timeout, resume)
    if (kind !== USER || (this.inFlight < this.settings.windowSize && this.waiting === 0)) {
      this.admit(entry)
      // No canceler when the writer is free: the request goes out at the end of this
      // microtask, and an `Effect.async` with a canceler costs several times one without
      // (measured: ~260k against ~900k cycles/s). A caller interrupted before then leaves its
      // request to go out and hold its slot until the response, as once on the wire. While
      // writes are held (a slow peer), the canceler is kept: the request is dropped if its
      // caller goes away before it is written.
      if (!this.writeBlocked) return undefined
    } else {
      entry.waitingSince = this.now()
      this.waiters.push(entry)
      this.waiting++
      if (this.settings.windowTimeout !== Number.POSITIVE_INFINITY) {
        this.noteDeadline(entry.waitingSince + this.settings.windowTimeout)
      }
      this.stats_.windowWaits++
      windowWaits.unsafeUpdate(1, NO_LABELS)
    }
    return Effect.sync(() => this.cancel(entry))
  }

  /** Why a request cannot be made now, if it cannot. */
  private refusal(pdu: Pdu.Pdu, kind: number, bypassClosing: boolean): Session.RequestError | undefined {
    if (this.closing !== undefined && !bypassClosing) return this.closing
    if (this.current === "CLOSED") return this.closedError()
    if (this.settings.checkOutbound && kind === USER) {
      const decision = BindState.canSend(this.role, this.current, pdu._tag)
      if (!decision.ok) {
        return new InvalidBindState({ command: pdu._tag, role: this.role, state: this.current, status: decision.status })
      }
    }
    return undefined
  }

  unsafeRequest<R extends Session.Request>(
    pdu: R,
    onDone: (exit: Exit.Exit<Session.ResponseOf<R>, Session.RequestError>) => void,
    requestOptions?: Session.RequestOptions
  ): void {
    const timeout = requestOptions?.timeout === undefined
      ? this.settings.responseTimeout
      : Duration.toMillis(requestOptions.timeout)
    // Every outcome given to `resume` is an Exit (`Exit.succeed` / `Exit.fail`, never an effect
    // to run), so that it can go to a plain callback as it is.
    this.register(pdu, USER, timeout, false, onDone as unknown as Resume)
  }

  private closedError(): SessionClosed {
    return this.closing ?? new SessionClosed({ reason: "Closed", sessionId: this.id })
  }

  request<R extends Session.Request>(
    pdu: R,
    requestOptions?: Session.RequestOptions
  ): Effect.Effect<Session.ResponseOf<R>, Session.RequestError> {
    return this.submit(
      pdu,
      USER,
      requestOptions?.timeout === undefined ? this.settings.responseTimeout : Duration.toMillis(requestOptions.timeout),
      false
    ) as Effect.Effect<Session.ResponseOf<R>, Session.RequestError>
  }

  send(pdu: Session.Unsolicited): Effect.Effect<void, SessionClosed | InvalidBindState> {
    return Effect.suspend((): Effect.Effect<void, SessionClosed | InvalidBindState> => {
      if (this.current === "CLOSED" || this.socketGone) return Exit.fail(this.closedError())
      if (this.settings.checkOutbound) {
        const decision = BindState.canSend(this.role, this.current, pdu._tag)
        if (!decision.ok) {
          return Exit.fail(new InvalidBindState({ command: pdu._tag, role: this.role, state: this.current, status: decision.status }))
        }
      }
      if (
        this.role === "smsc" && this.current === "OPEN" && pdu.commandStatus === CommandStatus.ESME_ROK &&
        isBindResponse(pdu._tag)
      ) {
        // A bind answered later by the application, outside the handler.
        this.setState(BindState.afterBind(BindState.bindKindOf(pdu._tag)!))
      }
      if ((pdu._tag === "outbind" || pdu._tag === "alert_notification") && pdu.sequenceNumber === 0) {
        this.enqueue({ ...pdu, sequenceNumber: this.sequence.next(this.pending) })
      } else {
        if (this.later !== undefined && Pdu.isResponse(pdu) && this.later.delete(pdu.sequenceNumber)) this.answered()
        this.enqueue(pdu)
      }
      return Effect.void
    })
  }

  unanswered(sequenceNumber: number): void {
    if (this.later !== undefined && this.later.delete(sequenceNumber)) this.answered()
  }

  sendBytes(bytes: Uint8Array): Effect.Effect<void, SessionClosed> {
    return Effect.suspend(() => {
      if (this.current === "CLOSED" || this.socketGone) return Exit.fail(this.closedError())
      this.enqueue(bytes)
      return Effect.void
    })
  }

  // --- replies to the peer's requests

  /** Answers a request with a status: in its response, or generic_nack when it has none. */
  private replyStatus(requestName: CommandName | undefined, status: number, seq: number): void {
    const name = requestName === undefined ? undefined : responseNameOf(requestName)
    this.enqueue(name === undefined ? Codec.encodeHeader("generic_nack", status, seq) : responseWith(name, status, seq))
  }

  /** Sends the handler's answer; a bind accepted by us (smsc) binds the session now. */
  private reply(req: Session.Inbound, result: Session.HandlerResult): void {
    if (req._tag === "outbind" || req._tag === "alert_notification") return
    const seq = req.sequenceNumber
    if (result === answerLater) {
      ;(this.later ??= new Set()).add(seq)
      return
    }
    this.answered()
    if (result === noResponse) return
    const response = typeof result === "number" ? responseWith(responseNameOf(req._tag)!, result, seq) : result
    if (this.role === "smsc" && response.commandStatus === CommandStatus.ESME_ROK && isBindResponse(response._tag)) {
      if (this.current !== "OPEN") {
        // Two binds raced through the handler; the first one won.
        this.replyStatus(
          req._tag,
          BindState.isBound(this.current) ? CommandStatus.ESME_RALYBND : CommandStatus.ESME_RINVBNDSTS,
          seq
        )
        return
      }
      // Bound from the moment the response is queued: the peer may send right after reading it.
      this.setState(BindState.afterBind(BindState.bindKindOf(response._tag)!))
    }
    // The handler's PDU goes out as it is, with the request's sequence number written into it.
    this.enqueue(response.sequenceNumber === seq ? response : new Reply(response, seq))
  }

  /** One owed answer went out. */
  private answered(): void {
    if (this.owed > 0 && --this.owed === 0 && this.owedWaiter !== undefined) {
      const waiter = this.owedWaiter
      this.owedWaiter = undefined
      waiter()
    }
  }

  /** Waits until every request of the peer is answered. */
  private awaitAnswered(): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (this.owed === 0) return resume(Effect.void)
      this.owedWaiter = () => resume(Effect.void)
      return Effect.sync(() => {
        this.owedWaiter = undefined
      })
    })
  }

  private handleFailure(req: Session.Inbound, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.zipRight(
      Effect.logError(`handler failed on ${req._tag} #${req.sequenceNumber}; answering ESME_RSYSERR`, cause),
      Effect.sync(() => this.reply(req, CommandStatus.ESME_RSYSERR))
    )
  }

  /**
   * Serves `batch` from `i` on, in order. A handler answering with an `Exit` (what
   * `Effect.succeed` / `Effect.fail` build) is handled on the spot, without running an
   * effect: most handlers of a busy session are of that kind.
   */
  private serveFrom(batch: ReadonlyArray<Session.Inbound | Job>, i: number): Effect.Effect<void> {
    for (; i < batch.length; i++) {
      const item = batch[i]!
      let req: Session.Inbound
      let effect: Effect.Effect<Session.HandlerResult, unknown>
      if (item instanceof Job) {
        req = item.request
        effect = item.effect
      } else {
        req = item
        effect = this.callHandler(req)
      }
      if (Exit.isExit(effect)) {
        const exit = effect as Exit.Exit<Session.HandlerResult, unknown>
        if (Exit.isSuccess(exit)) {
          this.reply(req, exit.value)
          continue
        }
        const next = i + 1
        return Effect.zipRight(this.handleFailure(req, exit.cause), Effect.suspend(() => this.serveFrom(batch, next)))
      }
      const next = i + 1
      return Effect.matchCauseEffect(effect, {
        onFailure: (cause) =>
          Effect.zipRight(this.handleFailure(req, cause), Effect.suspend(() => this.serveFrom(batch, next))),
        onSuccess: (result) => {
          this.reply(req, result)
          return this.serveFrom(batch, next)
        }
      })
    }
    return Effect.void
  }

  private callHandler(req: Session.Inbound): Effect.Effect<Session.HandlerResult, unknown> {
    try {
      return this.settings.handler(req, this)
    } catch (defect) {
      return Effect.die(defect)
    }
  }

  /** A worker: serves fair shares of the mailbox until it is empty. */
  private worker(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const mailbox = this.mailbox!
      if (mailbox.size === 0) {
        if (--this.workers === 0) this.mailbox = undefined
        return Effect.void
      }
      return Effect.zipRight(this.serveFrom(mailbox.takeShare(), 0), this.worker())
    })
  }

  /** Workers running: started as requests arrive (up to `concurrency`), ended when none wait. */
  private startWorkers(): void {
    const wanted = Math.min(this.settings.concurrency, this.mailbox!.size)
    while (this.workers < wanted && !this.finished) {
      this.workers++
      this.spawn(Effect.onInterrupt(this.worker(), () => Effect.sync(() => this.workers--)))
    }
  }

  /**
   * A request for the handler. When no handler is running and none waits, it is called here,
   * in the reader: an answer that is an `Exit` is sent at once, with no fiber and no mailbox
   * (most requests of a busy session). Otherwise the request goes through the mailbox.
   */
  private dispatch(req: Session.Inbound): boolean {
    const mailbox = (this.mailbox ??= new Mailbox(this.settings.mailboxCapacity, this.settings.concurrency))
    // outbind and alert_notification take no answer: not owed.
    const owes = req._tag !== "outbind" && req._tag !== "alert_notification" ? 1 : 0
    if (this.workers === 0 && mailbox.size === 0) {
      this.owed += owes
      const effect = this.callHandler(req)
      if (Exit.isExit(effect) && Exit.isSuccess(effect)) {
        this.reply(req, effect.value as Session.HandlerResult)
        return true
      }
      if (!mailbox.offer(new Job(req, effect))) {
        this.owed -= owes
        return false
      }
    } else if (mailbox.offer(req)) {
      this.owed += owes
    } else {
      return false
    }
    this.startWorkers()
    return true
  }

  // --- the reader: one synchronous call per chunk

  private onResponse(frame: Uint8Array, commandId: number, seq: number): void {
    const entry = this.pending.get(seq)
    const decoded = Codec.decode(frame, this.settings.decodeOptions)
    if (Either.isLeft(decoded)) {
      const error = decoded.left
      if (error.reason === "UnknownCommandId") {
        this.replyStatus(undefined, CommandStatus.ESME_RINVCMDID, seq)
        return
      }
      if (entry === undefined) {
        this.stats_.unexpectedResponses++
        this.log(
          LogLevel.Warning,
          `undecodable response 0x${commandId.toString(16)} #${seq} with no request pending: ${error.message}`
        )
        return
      }
      this.settle(
        entry,
        Exit.fail(new MalformedResponse({ reason: "Undecodable", command: entry.pdu._tag, sequenceNumber: seq, cause: error }))
      )
      return
    }
    const pdu = decoded.right
    pdusIn.unsafeUpdate(1, commandLabels[pdu._tag])
    if (entry === undefined) {
      this.stats_.unexpectedResponses++
      this.log(LogLevel.Warning, `${pdu._tag} #${seq} (${pdu.commandStatus}) with no request pending: dropped`)
      return
    }
    this.stats_.responsesReceived++
    if (pdu._tag === "generic_nack") {
      this.settle(
        entry,
        Exit.fail(new GenericNack({ command: entry.pdu._tag, sequenceNumber: seq, status: pdu.commandStatus }))
      )
      return
    }
    if (CommandId[pdu._tag] !== (CommandId[entry.pdu._tag] | 0x80000000) >>> 0) {
      this.settle(
        entry,
        Exit.fail(
          new MalformedResponse({ reason: "UnexpectedCommand", command: entry.pdu._tag, sequenceNumber: seq, cause: pdu._tag })
        )
      )
      return
    }
    if (pdu.commandStatus === CommandStatus.ESME_ROK) {
      if (this.role === "esme" && isBindResponse(pdu._tag) && this.current === "OPEN") {
        this.setState(BindState.afterBind(BindState.bindKindOf(pdu._tag)!))
      } else if (pdu._tag === "enquire_link_resp") {
        this.keepalive = Keepalive.onEnquireLinkResp(this.keepalive, this.now())
      }
    }
    this.settle(entry, Exit.succeed(pdu))
    // An unbind of ours sent with `request` is answered: the connection ends here.
    if (pdu._tag === "unbind_resp" && entry.kind === USER) this.requestClose("Unbound", false)
  }

  /** Answers whether the PDU counts as activity (anything but enquire_link traffic). */
  private onFrame(frame: Uint8Array): boolean {
    this.stats_.pdusIn++
    const commandId = readU32(frame, 4)
    const seq = readU32(frame, 12)
    if ((commandId & 0x80000000) !== 0) {
      this.onResponse(frame, commandId, seq)
      return commandId !== CommandId.enquire_link_resp
    }
    const name = nameOf(commandId)
    if (name === undefined) {
      // Unknown command: not fatal, the frame is skipped.
      this.stats_.requestsRefused++
      pdusIn.unsafeUpdate(1, rawLabels)
      this.replyStatus(undefined, CommandStatus.ESME_RINVCMDID, seq)
      return true
    }
    pdusIn.unsafeUpdate(1, commandLabels[name])
    const decision = BindState.canReceive(this.role, this.current, name)
    if (!decision.ok) {
      this.stats_.requestsRefused++
      this.replyStatus(name, decision.status, seq)
      return true
    }
    const decoded = Codec.decode(frame, this.settings.decodeOptions)
    if (Either.isLeft(decoded)) {
      this.stats_.requestsRefused++
      this.log(LogLevel.Warning, `${name} #${seq} refused: ${decoded.left.message}`)
      this.replyStatus(name, decoded.left.status, seq)
      return true
    }
    const pdu = decoded.right
    switch (pdu._tag) {
      case "enquire_link":
        this.enqueue(Codec.encodeHeader("enquire_link_resp", CommandStatus.ESME_ROK, seq))
        return false
      case "unbind":
        // No new request from here on (UNBOUND); the ones taken are answered first, then the
        // unbind (by the supervisor): a peer that unbinds without waiting loses no answer.
        this.setState("UNBOUND")
        if (this.owed === 0) this.enqueue(Codec.encodeHeader("unbind_resp", CommandStatus.ESME_ROK, seq))
        else this.peerUnbind = seq
        this.requestClose("PeerUnbound", false)
        return true
      default:
        if (this.dispatch(pdu as Session.Inbound)) {
          this.stats_.requestsHandled++
        } else {
          // Mailbox full: ask the peer to slow down rather than buffer without bound.
          this.stats_.requestsRefused++
          this.replyStatus(name, CommandStatus.ESME_RTHROTTLED, seq)
        }
        return true
    }
  }

  /** A chunk from the wire: every whole PDU in it handled synchronously. */
  onData(chunk: Uint8Array): void {
    if (this.readStopped) return
    this.stats_.bytesIn += chunk.length
    const { error, frames } = this.framer.push(chunk)
    if (frames.length > 0) {
      let activity = false
      for (let i = 0; i < frames.length; i++) {
        if (this.onFrame(frames[i]!)) activity = true
      }
      this.keepalive = Keepalive.onTraffic(this.keepalive, this.now(), activity ? "activity" : "keepalive")
    }
    if (error !== undefined) {
      // No way to find the next PDU: answer, stop reading, close.
      this.readStopped = true
      this.log(LogLevel.Warning, error.message)
      this.enqueue(Codec.encodeHeader("generic_nack", error.status, error.sequenceNumber ?? 0))
      this.requestClose("InvalidCommandLength", false, error)
    }
  }

  // --- the writer: everything queued, one buffer, one write

  private enqueue(item: Outbound): void {
    const n = this.outbound.push(item)
    if (this.writeBlocked) {
      // A peer that sends without reading our answers: stop reading it until it does.
      if (n >= MAX_BATCH && !this.readPaused) {
        this.readPaused = true
        this.stats_.readPauses++
        this.wire.reading(false)
      }
      return
    }
    if (n >= EAGER_BATCH && !encoding) this.flush()
    else this.markDirty()
  }

  private markDirty(): void {
    if (this.inDirty) return
    this.inDirty = true
    dirty.push(this)
    if (!flushQueued) {
      flushQueued = true
      queueMicrotask(flushAll)
    }
  }

  /** Called by `flushAll`. */
  flush(): void {
    this.inDirty = false
    while (this.outbound.length > 0 && !this.writeBlocked) {
      let items = this.outbound
      if (items.length <= MAX_BATCH) {
        this.outbound = []
      } else {
        items = items.slice(0, MAX_BATCH)
        this.outbound.splice(0, MAX_BATCH)
      }
      this.writeBatch(items)
    }
  }

  private writeBatch(items: ReadonlyArray<Outbound>): void {
    encoding = true
    try {
      this.encodeBatch(items)
    } finally {
      encoding = false
    }
  }

  private encodeBatch(items: ReadonlyArray<Outbound>): void {
    const time = this.now()
    let flushes: Array<Flush> | undefined
    let count = 0
    let earliest = Number.POSITIVE_INFINITY
    buffer.reset()
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!
      if (item instanceof Pending) {
        if (item.status !== IN_FLIGHT) continue
        const start = buffer.pos
        try {
          Codec.encodeInto(buffer, item.pdu)
        } catch (e) {
          this.settle(item, Exit.fail(encodeFailure(item.pdu, e)))
          continue
        }
        buffer.u32At(start + 12, item.seq)
        item.written = true
        item.deadline = time + item.timeout
        if (item.deadline < earliest) earliest = item.deadline
        pdusOut.unsafeUpdate(1, commandLabels[item.pdu._tag])
        count++
      } else if (item instanceof Reply) {
        const start = buffer.pos
        if (!this.encodeOther(item.pdu)) continue
        buffer.u32At(start + 12, item.seq)
        count++
      } else if (item instanceof Uint8Array) {
        buffer.bytes(item)
        const name = item.length >= 8 ? nameOf(readU32(item, 4)) : undefined
        pdusOut.unsafeUpdate(1, name === undefined ? rawLabels : commandLabels[name])
        count++
      } else if (item instanceof Flush) {
        if (flushes === undefined) flushes = []
        flushes.push(item)
      } else {
        if (!this.encodeOther(item)) continue
        count++
      }
    }
    this.stats_.pdusOut += count
    if (earliest !== Number.POSITIVE_INFINITY) this.noteDeadline(earliest)
    if (buffer.pos === 0) {
      if (flushes !== undefined) for (const f of flushes) f.done()
      return
    }
    const bytes = buffer.take()
    this.stats_.bytesOut += bytes.length
    this.stats_.writes++
    const done = flushes === undefined ? undefined : () => {
      for (const f of flushes) f.done()
    }
    if (!this.wire.write(bytes, done)) this.writeBlocked = true
  }

  /** Encodes a PDU that is not a request of ours; answers whether anything was written. */
  private encodeOther(pdu: Pdu.Pdu): boolean {
    try {
      Codec.encodeInto(buffer, pdu)
    } catch (e) {
      this.log(LogLevel.Error, `${pdu._tag} #${pdu.sequenceNumber} not sent: ${encodeFailure(pdu, e).message}`)
      if (!Pdu.isResponse(pdu)) return false
      // The peer still waits for an answer: a header that at least says we failed.
      buffer.bytes(Codec.encodeHeader(pdu._tag, CommandStatus.ESME_RSYSERR, pdu.sequenceNumber))
    }
    pdusOut.unsafeUpdate(1, commandLabels[pdu._tag])
    return true
  }

  // --- timers

  /** Fails requests past their response deadline, and waiters past the window bound. */
  private sweep(time: number): void {
    for (const entry of this.pending.values()) {
      if (entry.deadline > time) continue
      if (entry.kind === USER) {
        this.stats_.responseTimeouts++
        responseTimeouts.unsafeUpdate(1, NO_LABELS)
      }
      this.settle(
        entry,
        Exit.fail(new ResponseTimeout({ command: entry.pdu._tag, sequenceNumber: entry.seq, timeout: entry.timeout }))
      )
    }
    // Waiters are in arrival order and share one bound: the expired ones are at the front.
    const waiters = this.waiters
    const windowTimeout = this.settings.windowTimeout
    while (this.waitHead < waiters.length) {
      const entry = waiters[this.waitHead]!
      if (entry.status === WAITING) {
        if (time - entry.waitingSince < windowTimeout) break
        entry.status = DONE
        this.waiting--
        this.stats_.windowTimeouts++
        windowTimeouts.unsafeUpdate(1, NO_LABELS)
        const resume = entry.resume
        entry.resume = undefined
        resume?.(
          Exit.fail(
            new WindowTimeout({ command: entry.pdu._tag, windowSize: this.settings.windowSize, waited: time - entry.waitingSince })
          )
        )
      }
      waiters[this.waitHead++] = undefined
    }
    if (this.waitHead === waiters.length) {
      waiters.length = 0
      this.waitHead = 0
    }
  }

  /** The earliest response or window deadline, Infinity when nothing waits. */
  private nextRequestDeadline(): number {
    let next = Number.POSITIVE_INFINITY
    for (const entry of this.pending.values()) {
      if (entry.deadline < next) next = entry.deadline
    }
    if (this.waiting > 0 && Number.isFinite(this.settings.windowTimeout)) {
      for (let i = this.waitHead; i < this.waiters.length; i++) {
        const entry = this.waiters[i]!
        if (entry.status === WAITING) {
          next = Math.min(next, entry.waitingSince + this.settings.windowTimeout)
          break
        }
      }
    }
    return next
  }

  /**
   * Keepalive, inactivity and session_init: asks `Keepalive.tick` what to do now. Once it
   * closed the session (or the session_init_timer did), it does nothing more.
   */
  private beat(time: number): void {
    if (!this.heartbeatOn) return
    const settings = this.settings
    if (this.current === "OPEN" && time - this.openedAt >= settings.sessionInit) {
      this.heartbeatOn = false
      this.log(LogLevel.Info, `no bind within ${settings.sessionInit} ms: closing`)
      this.requestClose("SessionInitTimeout", false)
      return
    }
    const result = Keepalive.tick(this.keepalive, time)
    this.keepalive = result.state
    switch (result.action) {
      case "dead":
        this.heartbeatOn = false
        this.log(LogLevel.Warning, `${settings.keepalive.maxMissed} enquire_link unanswered: the peer is dead`)
        this.requestClose("KeepaliveDead", false)
        return
      case "inactive":
        this.heartbeatOn = false
        this.log(LogLevel.Info, `no activity for ${settings.keepalive.inactivity} ms: closing`)
        this.requestClose("Inactive", true)
        return
      case "send_enquire_link":
        if (!this.socketGone) {
          this.stats_.enquireLinksSent++
          this.keepalive = Keepalive.onEnquireLinkSent(this.keepalive, time)
          // Its own timeout is the keepalive's business; the sweep only clears the entry.
          this.admit(
            new Pending(
              { _tag: "enquire_link", commandStatus: 0, sequenceNumber: 0 },
              KEEPALIVE,
              settings.keepalive.responseTimeout,
              undefined
            )
          )
        }
        return
      case "none":
        return
    }
  }

  private heartbeatDeadline(): number {
    if (!this.heartbeatOn) return Number.POSITIVE_INFINITY
    const deadline = Keepalive.nextDeadline(this.keepalive)
    return this.current === "OPEN" ? Math.min(deadline, this.openedAt + this.settings.sessionInit) : deadline
  }

  /** Called by `Deadlines` when the deadline asked for is due. */
  onTimer(time: number): void {
    if (this.finished) return
    this.sweep(time)
    this.beat(time)
    // An idle session keeps no table of its own.
    if (this.pending.size === 0) this.pending = NONE_PENDING
    this.scheduleTimer(time)
  }

  private scheduleTimer(time: number): void {
    if (this.finished) return
    const target = Math.min(this.heartbeatDeadline(), this.nextRequestDeadline())
    if (target < this.timerAt) this.env.deadlines.schedule(this, Math.max(target, time), this.settings.resolution)
  }

  /** A deadline was set: asks to be woken earlier if it has to. */
  private noteDeadline(deadline: number): void {
    if (deadline < this.timerAt - this.settings.resolution && !this.finished) {
      this.env.deadlines.schedule(this, deadline, this.settings.resolution)
    }
  }

  // --- closing

  private awaitDrained(): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (this.inFlight === 0) return resume(Effect.void)
      this.drainWaiter = () => resume(Effect.void)
      return Effect.sync(() => {
        this.drainWaiter = undefined
      })
    })
  }

  private flushed(): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      this.enqueue(new Flush(() => resume(Effect.void)))
    })
  }

  private failWaiters(error: SessionClosed): void {
    const waiters = this.waiters
    while (this.waitHead < waiters.length) {
      const entry = waiters[this.waitHead]!
      waiters[this.waitHead++] = undefined
      if (entry.status !== WAITING) continue
      entry.status = DONE
      this.waiting--
      const resume = entry.resume
      entry.resume = undefined
      resume?.(Exit.fail(error))
    }
    waiters.length = 0
    this.waitHead = 0
  }

  private gracefulPart(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.failWaiters(this.closing!)
      // Our requests answered, and the peer's: both within the one bound.
      const drained = Effect.ignore(
        Effect.timeout(
          Effect.zip(this.awaitDrained(), this.awaitAnswered(), { concurrent: true }),
          Duration.millis(this.settings.drainTimeout)
        )
      )
      return Effect.zipRight(
        drained,
        Effect.suspend(() =>
          BindState.isBound(this.current)
            ? Effect.ignore(
              this.submit({ _tag: "unbind", commandStatus: 0, sequenceNumber: 0 }, UNBIND, this.settings.responseTimeout, true)
            )
            : Effect.void
        )
      )
    })
  }

  private supervisor(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      if (self.graceful) yield* Effect.raceFirst(self.gracefulPart(), Deferred.await(self.hardStop!))
      if (self.peerUnbind !== undefined && !self.socketGone) {
        yield* Effect.ignore(Effect.timeout(self.awaitAnswered(), Duration.millis(self.settings.drainTimeout)))
        self.enqueue(Codec.encodeHeader("unbind_resp", CommandStatus.ESME_ROK, self.peerUnbind))
      }
      if (!self.socketGone) {
        yield* Effect.ignore(Effect.timeout(self.flushed(), Duration.millis(self.settings.drainTimeout)))
      }
      const reason = self.closing!
      self.readStopped = true
      self.setState("CLOSED")
      self.failWaiters(reason)
      for (const entry of self.pending.values()) self.settle(entry, Exit.fail(reason))
      // Nothing is started from here on; what the logger did not write yet is written here.
      self.finished = true
      self.timerAt = Number.POSITIVE_INFINITY
      const queued = self.events?.splice(0) ?? []
      for (const event of queued) yield* Effect.logWithLevel(event.level, event.message)
      yield* Effect.logDebug(`closed: ${reason.reason}`)
      if (self.fibers !== undefined && self.fibers.size > 0) yield* Fiber.interruptAll(Array.from(self.fibers))
      self.wire.end()
      self.closedWith = reason
      const waiters = self.closedWaiters
      self.closedWaiters = undefined
      if (waiters !== undefined) for (const f of waiters) f(reason)
      self.env.onClosed?.(self, reason)
    })
  }

  private whenClosed(): Effect.Effect<SessionClosed> {
    return Effect.async<SessionClosed>((resume) => {
      if (this.closedWith !== undefined) return resume(Effect.succeed(this.closedWith))
      const waiter = (reason: SessionClosed) => resume(Effect.succeed(reason))
      ;(this.closedWaiters ??= []).push(waiter)
      return Effect.sync(() => {
        const at = this.closedWaiters?.indexOf(waiter) ?? -1
        if (at >= 0) this.closedWaiters!.splice(at, 1)
      })
    })
  }

  /** Closes (gracefully or not) and waits until closed. */
  closeWith(reason: CloseReason, graceful: boolean): Effect.Effect<SessionClosed> {
    return Effect.zipRight(Effect.sync(() => this.requestClose(reason, graceful)), this.whenClosed())
  }

  // --- the public face

  get state(): Effect.Effect<BindState.State> {
    return Effect.sync(() => this.current)
  }

  get closed(): Effect.Effect<SessionClosed> {
    return this.whenClosed()
  }

  get close(): Effect.Effect<SessionClosed> {
    return this.closeWith("Closed", true)
  }

  get unbind(): Effect.Effect<SessionClosed> {
    return this.closeWith("Unbound", true)
  }

  get abort(): Effect.Effect<SessionClosed> {
    return this.closeWith("Aborted", false)
  }

  get stats(): Effect.Effect<Session.Stats> {
    return Effect.sync(() => ({ ...this.stats_, inFlight: this.inFlight, waiting: this.waiting }))
  }

  get stateChanges(): Stream.Stream<BindState.State> {
    return Stream.suspend(() =>
      this.current === "CLOSED"
        ? Stream.make(this.current)
        : Stream.unwrapScoped(
          Effect.map(Effect.flatMap(this.hub(), PubSub.subscribe), (subscription) => {
            // Subscribed before reading the state: no change can fall in between.
            const current = this.current
            return Stream.concat(Stream.make(current), Stream.fromQueue(subscription)).pipe(
              Stream.changes,
              Stream.takeUntil((s) => s === "CLOSED")
            )
          })
        )
    )
  }

  private hub(): Effect.Effect<PubSub.PubSub<BindState.State>> {
    return Effect.suspend(() =>
      this.stateHub !== undefined
        ? Effect.succeed(this.stateHub)
        : Effect.map(PubSub.unbounded<BindState.State>(), (made) => (this.stateHub ??= made))
    )
  }
}

const encodeFailure = (pdu: Pdu.Pdu, e: unknown): EncodeError =>
  e instanceof EncodeError ? e : new EncodeError({ command: String(pdu._tag), field: "", detail: String(e) })

// ---------------------------------------------------------------------------------------------
// constructors

/** @internal The environment of sessions made in the current fiber; `deadlines` given or made with the Scope. */
export const makeEnv = (deadlines?: Deadlines.Deadlines): Effect.Effect<Env, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const clock = yield* Effect.clock
    const minimumLogLevel = yield* FiberRef.get(FiberRef.currentMinimumLogLevel)
    return { runtime, clock, deadlines: deadlines ?? (yield* Deadlines.make), minimumLogLevel }
  })

/** @internal A session over a wire, started; it closes when asked (no Scope of its own). */
export const start = (wire: Wire, options: Session.Options, env: Env, settings?: Settings): SessionCore => {
  const id = options.id ?? `${options.role}-${++sessionCounter}`
  const core = new SessionCore(id, options.role, options.peer, settings ?? new Settings(options), wire, env)
  core.start()
  return core
}

/** @internal What a session runs over: a platform socket, and the node socket under it if any. */
export interface Connection {
  readonly socket: Socket.Socket
  readonly conn?: Net.Socket | undefined
}

/** @internal The wire for a connection: the node socket itself when there is one. */
export const wireOf = (connection: Connection, env: Env): Wire =>
  connection.conn !== undefined ? new NetWire(connection.conn) : new PlatformWire(connection.socket, env.runtime)

/** @internal A session with its own environment, closed (gracefully) with the Scope. */
export const makeFor = (
  connection: Connection,
  options: Session.Options
): Effect.Effect<SessionCore, never, Scope.Scope> =>
  Effect.gen(function*() {
    const env = yield* makeEnv()
    const core = start(wireOf(connection, env), options, env)
    yield* Effect.addFinalizer(() => core.closeWith("Closed", true))
    return core
  })

/** @internal */
export const make = (socket: Socket.Socket, options: Session.Options): Effect.Effect<Session.Session, never, Scope.Scope> =>
  makeFor({ socket }, options)
