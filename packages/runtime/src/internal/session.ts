/**
 * The session actor. One closure per session owns the mutable state (the pending map, the
 * window, the bind state, the keepalive state); everything that touches it runs on the JS
 * thread without awaiting in between, so no locks are needed.
 *
 * Cost model: per request, one `Effect.async` registration (which also does the window
 * admission), one entry in one `Map`, one push to the writer's queue; per batch, one wake-up
 * of the writer, one encode into one buffer, one socket write, one clock read (the response
 * deadlines of the whole batch). No fiber, no Deferred and no semaphore per request.
 *
 * Measured while choosing (effect 3.22, 100 callers, the bare `Effect.async` + Map loop of
 * bench/SessionLoop.ts, same process): a forked timer fiber per request (or `Effect.timeout`)
 * took the loop from ~400–780k to ~18–22k cycles/s, so response timers are deadlines checked
 * by one timer fiber that sleeps until the earliest one; an Effect `Semaphore` for the window
 * took it to ~120–155k, so the window is a counter plus a FIFO of waiting callbacks;
 * `Queue.takeBetween` for the writer and `Queue.take` per request for the handler workers cost
 * ~40% of the session loop, hence `BatchQueue` and `Mailbox` (fair-share batches, handlers that
 * answer with an `Exit` served without running an effect — in the reader itself when no other
 * handler is running).
 *
 * Memory: an idle session holds three fibers: its reader, its writer and its timer. Handler
 * workers, the logger and the supervisor are started when there is work for them, and end
 * when it is done. Measured with 1,000 idle sessions on one server (bench/ClientServer.ts):
 * 23 fibers and ~190 KiB RSS per session with all of them parked from the start.
 */
import * as Codec from "@effect-smpp/schema/Codec"
import { CommandId, type CommandName, commandNames, nameOf, responseNameOf } from "@effect-smpp/schema/CommandId"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { EncodeError } from "@effect-smpp/schema/DecodeError"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Socket from "@effect/platform/Socket"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as FiberSet from "effect/FiberSet"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as PubSub from "effect/PubSub"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
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
import { BatchQueue } from "./batchQueue.js"

/** @internal */
export const noResponse: unique symbol = Symbol.for("@effect-smpp/runtime/Session/noResponse")

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

/** What the writer takes: a request of ours, any other PDU (sequence number as given), bytes. */
type Outbound = Pending | Pdu.Pdu | Uint8Array | Flush

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
  readonly level: "Debug" | "Info" | "Warning" | "Error"
  readonly message: string
}

// ---------------------------------------------------------------------------------------------

/** @internal */
export const make = (
  socket: Socket.Socket,
  options: Session.Options
): Effect.Effect<Session.Session, never, Scope.Scope> =>
  Effect.suspend(() => {
    const role = options.role
    const id = options.id ?? `${role}-${++sessionCounter}`
    const annotations: Record<string, string> = { session: id, role }
    if (options.peer !== undefined) annotations.peer = options.peer
    return Effect.annotateLogs(makeSession(socket, options, role, id), annotations)
  })

const makeSession = (
  socket: Socket.Socket,
  options: Session.Options,
  role: BindState.Role,
  id: string
): Effect.Effect<Session.Session, never, Scope.Scope> =>
  Effect.gen(function*() {
    // --- configuration
    const maxLength = options.maxLength ?? Framer.DEFAULT_MAX_LENGTH
    const windowSize = Math.max(1, Math.floor(options.windowSize ?? 10))
    const windowTimeout = millis(options.windowTimeout, Number.POSITIVE_INFINITY)
    const responseTimeout = millis(options.responseTimeout, 30_000)
    const sessionInit = millis(options.sessionInitTimeout, role === "smsc" ? 10_000 : Number.POSITIVE_INFINITY)
    const drainTimeout = millis(options.drainTimeout, responseTimeout)
    const inactivity = millis(options.inactivityTimeout, Number.POSITIVE_INFINITY)
    const keepaliveConfig = Keepalive.config({
      interval: options.enquireLinkInterval ?? 30_000,
      responseTimeout: options.enquireLinkTimeout ?? responseTimeout,
      maxMissed: options.maxMissedEnquireLinks ?? 3,
      inactivity: Number.isFinite(inactivity) ? inactivity : undefined
    })
    const resolution = options.timerResolution !== undefined
      ? Math.max(1, Duration.toMillis(options.timerResolution))
      : Math.min(1000, Math.max(10, Math.min(responseTimeout, windowTimeout) / 10))
    const checkOutbound = options.checkOutbound ?? true
    const handler: Session.Handler = options.handler ?? (() => Effect.succeed(CommandStatus.ESME_RSYSERR))

    // --- resources
    const parentScope = yield* Effect.scope
    const clock = yield* Effect.clock
    const own = yield* Scope.make()
    // Fibers started on demand (handler workers, the logger, the timer): an idle session
    // holds only its reader, its writer and its timer.
    const fibers = yield* Scope.extend(FiberSet.make<unknown, unknown>(), own)
    const spawn = yield* FiberSet.runtime(fibers)<never>()
    const rootRuntime = yield* Effect.runtime<never>()
    const minimumLogLevel = yield* FiberRef.get(FiberRef.currentMinimumLogLevel)
    const outbound = new BatchQueue<Outbound>()
    const concurrency = Math.max(1, Math.floor(options.handlerConcurrency ?? 16))
    const mailbox = new Mailbox<Session.Inbound | Job>(Math.max(1, options.mailboxCapacity ?? 1024), concurrency)
    // Made by the first `stateChanges`: most sessions never have a subscriber.
    let stateHub: PubSub.PubSub<BindState.State> | undefined
    const closeRequested = yield* Deferred.make<boolean>() // true: graceful
    const hardStop = yield* Deferred.make<void>()
    const closedSignal = yield* Deferred.make<SessionClosed>()

    // --- state, owned by this closure
    const now = (): number => clock.unsafeCurrentTimeMillis()
    let state: BindState.State = "OPEN"
    const openedAt = now()
    let closing: SessionClosed | undefined
    let supervising = false
    /** Set by the supervisor once `own` is closing: nothing is started any more. */
    let ownClosing = false
    let socketGone = false
    let readStopped = false
    /** The writer waits for a socket write to complete (a slow peer): what is queued waits too. */
    let writeInProgress = false
    const pending = new Map<number, Pending>()
    let inFlight = 0
    const waiters: Array<Pending | undefined> = []
    let waitHead = 0
    let waiting = 0
    let drainWaiter: (() => void) | undefined
    const sequence = SequenceNumbers.make()
    const framer = Framer.make({ maxLength })
    const decodeOptions = { maxLength }
    let keepalive = Keepalive.make(keepaliveConfig, openedAt)
    const stats = {
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
      enquireLinksSent: 0
    }

    // Log events wait here for a logger fiber, started when the first one comes.
    const events: Array<LogEvent> = []
    let logging = false
    const drainLogs: Effect.Effect<void> = Effect.suspend(() => {
      if (events.length === 0) {
        logging = false
        return Effect.void
      }
      const batch = events.splice(0, events.length)
      return Effect.zipRight(
        Effect.forEach(batch, (event) => Effect.logWithLevel(levelOf(event.level), event.message), { discard: true }),
        drainLogs
      )
    })

    const log = (level: LogEvent["level"], message: string): void => {
      if (LogLevel.lessThan(levelOf(level), minimumLogLevel)) return
      // Bounded, as a sliding queue: the newest are kept.
      if (events.length >= 1024) events.shift()
      events.push({ level, message })
      if (!logging && !ownClosing) {
        logging = true
        spawn(drainLogs, { immediate: false })
      }
    }

    /** Queues a PDU (or bytes, or a flush marker) for the writer. */
    const enqueue = (item: Outbound): void => {
      outbound.offer(item)
    }

    sessions.unsafeModify(1, stateLabels.OPEN)

    const setState = (next: BindState.State): void => {
      const previous = state
      if (previous === next || previous === "CLOSED") return
      sessions.unsafeModify(-1, stateLabels[previous])
      if (next !== "CLOSED") sessions.unsafeModify(1, stateLabels[next])
      state = next
      stateHub?.unsafeOffer(next)
      log("Debug", `state ${previous} -> ${next}`)
    }

    /** Asks the supervisor to close; the first reason wins. Graceful closes drain and unbind. */
    const requestClose = (reason: CloseReason, graceful: boolean, cause?: unknown): void => {
      if (closing === undefined) {
        closing = cause === undefined
          ? new SessionClosed({ reason, sessionId: id })
          : new SessionClosed({ reason, sessionId: id, cause })
      }
      Deferred.unsafeDone(closeRequested, Exit.succeed(graceful))
      if (!graceful) Deferred.unsafeDone(hardStop, Exit.void)
      if (!supervising) {
        // Started now rather than parked from the start; outside `own`, which it closes.
        supervising = true
        Runtime.runFork(rootRuntime)(supervisor, { immediate: false })
      }
    }

    // --- the window and the pending map

    const admit = (entry: Pending): void => {
      entry.seq = sequence.next(pending)
      entry.status = IN_FLIGHT
      pending.set(entry.seq, entry)
      if (entry.kind === USER) {
        inFlight++
        requestsInFlight.unsafeModify(1, NO_LABELS)
      }
      if (entry.pdu._tag === "unbind" && BindState.isBound(state)) setState("UNBOUND")
      enqueue(entry)
    }

    const admitWaiters = (): void => {
      while (inFlight < windowSize && waitHead < waiters.length) {
        const next = waiters[waitHead]!
        waiters[waitHead++] = undefined
        if (next.status !== WAITING) continue
        waiting--
        admit(next)
      }
      if (waitHead === waiters.length) {
        waiters.length = 0
        waitHead = 0
      } else if (waitHead > 1024 && waitHead * 2 > waiters.length) {
        waiters.splice(0, waitHead)
        waitHead = 0
      }
    }

    /** Settles a request in flight: frees its slot, resumes its caller, admits the next. */
    const settle = (entry: Pending, result: Effect.Effect<Pdu.Pdu, Session.RequestError>): void => {
      if (entry.status !== IN_FLIGHT) return
      entry.status = DONE
      pending.delete(entry.seq)
      const resume = entry.resume
      entry.resume = undefined
      if (entry.kind === USER) {
        inFlight--
        requestsInFlight.unsafeModify(-1, NO_LABELS)
        if (resume !== undefined) resume(result)
        if (waiting > 0) admitWaiters()
        if (inFlight === 0 && drainWaiter !== undefined) {
          const drained = drainWaiter
          drainWaiter = undefined
          drained()
        }
      } else if (resume !== undefined) {
        resume(result)
      }
    }

    /** The caller of a request was interrupted (a request that waited, or queued behind a pending write). */
    const cancel = (entry: Pending): void => {
      entry.resume = undefined
      if (entry.status === WAITING) {
        entry.status = DONE
        waiting--
      } else if (entry.status === IN_FLIGHT && !entry.written) {
        // Not on the wire yet: the writer will skip it, the slot is free at once.
        settle(entry, Effect.interrupt)
      }
      // On the wire: the peer counts it in its window too, so the slot stays taken until the
      // response or the timeout.
    }

    const submit = (
      pdu: Pdu.Pdu,
      kind: number,
      timeout: number,
      bypassClosing: boolean
    ): Effect.Effect<Pdu.Pdu, Session.RequestError> =>
      Effect.async<Pdu.Pdu, Session.RequestError>((resume) => {
        if (closing !== undefined && !bypassClosing) return resume(Effect.fail(closing))
        if (state === "CLOSED") return resume(Effect.fail(closing ?? new SessionClosed({ reason: "Closed", sessionId: id })))
        if (checkOutbound && kind === USER) {
          const decision = BindState.canSend(role, state, pdu._tag)
          if (!decision.ok) {
            return resume(
              Effect.fail(new InvalidBindState({ command: pdu._tag, role, state, status: decision.status }))
            )
          }
        }
        const entry = new Pending(pdu, kind, timeout, resume)
        if (kind !== USER || (inFlight < windowSize && waiting === 0)) {
          admit(entry)
          // No canceler when the writer is free: the request goes out at its next turn, and an
          // `Effect.async` with a canceler costs several times one without (measured: ~260k
          // against ~900k cycles/s). A caller interrupted before that turn leaves its request
          // to go out and hold its slot until the response, as once on the wire. While a write
          // is pending (a slow peer), the canceler is kept: the request is dropped if its
          // caller goes away before it is written.
          if (!writeInProgress) return
        } else {
          entry.waitingSince = now()
          waiters.push(entry)
          waiting++
          if (windowTimeout !== Number.POSITIVE_INFINITY) noteDeadline(entry.waitingSince + windowTimeout)
          stats.windowWaits++
          windowWaits.unsafeUpdate(1, NO_LABELS)
        }
        return Effect.sync(() => cancel(entry))
      })

    const request = <R extends Session.Request>(
      pdu: R,
      requestOptions?: Session.RequestOptions
    ): Effect.Effect<Session.ResponseOf<R>, Session.RequestError> =>
      submit(
        pdu,
        USER,
        requestOptions?.timeout === undefined ? responseTimeout : Duration.toMillis(requestOptions.timeout),
        false
      ) as Effect.Effect<Session.ResponseOf<R>, Session.RequestError>

    const send = (pdu: Session.Unsolicited): Effect.Effect<void, SessionClosed | InvalidBindState> =>
      Effect.suspend((): Effect.Effect<void, SessionClosed | InvalidBindState> => {
        if (state === "CLOSED" || socketGone) {
          return Effect.fail(closing ?? new SessionClosed({ reason: "Closed", sessionId: id }))
        }
        if (checkOutbound) {
          const decision = BindState.canSend(role, state, pdu._tag)
          if (!decision.ok) {
            return Effect.fail(new InvalidBindState({ command: pdu._tag, role, state, status: decision.status }))
          }
        }
        if (
          role === "smsc" && state === "OPEN" && pdu.commandStatus === CommandStatus.ESME_ROK &&
          isBindResponse(pdu._tag)
        ) {
          // A bind answered later by the application, outside the handler.
          setState(BindState.afterBind(BindState.bindKindOf(pdu._tag)!))
        }
        if ((pdu._tag === "outbind" || pdu._tag === "alert_notification") && pdu.sequenceNumber === 0) {
          enqueue({ ...pdu, sequenceNumber: sequence.next(pending) })
        } else {
          enqueue(pdu)
        }
        return Effect.void
      })

    const sendBytes = (bytes: Uint8Array): Effect.Effect<void, SessionClosed> =>
      Effect.suspend(() => {
        if (state === "CLOSED" || socketGone) {
          return Effect.fail(closing ?? new SessionClosed({ reason: "Closed", sessionId: id }))
        }
        enqueue(bytes)
        return Effect.void
      })

    // --- replies to the peer's requests

    /** Answers a request with a status: in its response, or generic_nack when it has none. */
    const replyStatus = (requestName: CommandName | undefined, status: number, seq: number): void => {
      const name = requestName === undefined ? undefined : responseNameOf(requestName)
      enqueue(
        name === undefined ? Codec.encodeHeader("generic_nack", status, seq) : responseWith(name, status, seq)
      )
    }

    /** Sends the handler's answer; a bind accepted by us (smsc) binds the session now. */
    const reply = (req: Session.Inbound, result: Session.HandlerResult): void => {
      if (result === noResponse || req._tag === "outbind" || req._tag === "alert_notification") return
      const seq = req.sequenceNumber
      let response: Pdu.Pdu
      if (typeof result === "number") {
        response = responseWith(responseNameOf(req._tag)!, result, seq)
      } else {
        response = result.sequenceNumber === seq ? result : { ...result, sequenceNumber: seq }
      }
      if (role === "smsc" && response.commandStatus === CommandStatus.ESME_ROK && isBindResponse(response._tag)) {
        if (state !== "OPEN") {
          // Two binds raced through the handler; the first one won.
          replyStatus(req._tag, BindState.isBound(state) ? CommandStatus.ESME_RALYBND : CommandStatus.ESME_RINVBNDSTS, seq)
          return
        }
        // Bound from the moment the response is queued: the peer may send right after reading it.
        setState(BindState.afterBind(BindState.bindKindOf(response._tag)!))
      }
      enqueue(response)
    }

    const handleFailure = (req: Session.Inbound, cause: Cause.Cause<unknown>): Effect.Effect<void> =>
      Effect.zipRight(
        Effect.logError(`handler failed on ${req._tag} #${req.sequenceNumber}; answering ESME_RSYSERR`, cause),
        Effect.sync(() => reply(req, CommandStatus.ESME_RSYSERR))
      )

    /**
     * Serves `batch` from `i` on, in order. A handler answering with an `Exit` (what
     * `Effect.succeed` / `Effect.fail` build) is handled on the spot, without running an
     * effect: most handlers of a busy session are of that kind.
     */
    const serveFrom = (batch: ReadonlyArray<Session.Inbound | Job>, i: number): Effect.Effect<void> => {
      for (; i < batch.length; i++) {
        const item = batch[i]!
        let req: Session.Inbound
        let effect: Effect.Effect<Session.HandlerResult, unknown>
        if (item instanceof Job) {
          req = item.request
          effect = item.effect
        } else {
          req = item
          effect = callHandler(req)
        }
        if (Exit.isExit(effect)) {
          const exit = effect as Exit.Exit<Session.HandlerResult, unknown>
          if (Exit.isSuccess(exit)) {
            reply(req, exit.value)
            continue
          }
          const next = i + 1
          return Effect.zipRight(handleFailure(req, exit.cause), Effect.suspend(() => serveFrom(batch, next)))
        }
        const next = i + 1
        return Effect.matchCauseEffect(effect, {
          onFailure: (cause) => Effect.zipRight(handleFailure(req, cause), Effect.suspend(() => serveFrom(batch, next))),
          onSuccess: (result) => {
            reply(req, result)
            return serveFrom(batch, next)
          }
        })
      }
      return Effect.void
    }

    const callHandler = (req: Session.Inbound): Effect.Effect<Session.HandlerResult, unknown> => {
      try {
        return handler(req, self)
      } catch (defect) {
        return Effect.die(defect)
      }
    }

    /** Workers running: started as requests arrive (up to `concurrency`), ended when none wait. */
    let workers = 0
    const worker: Effect.Effect<void> = Effect.suspend(() => {
      if (mailbox.size === 0) {
        workers--
        return Effect.void
      }
      return Effect.zipRight(serveFrom(mailbox.takeShare(), 0), worker)
    })
    const startWorkers = (): void => {
      const wanted = Math.min(concurrency, mailbox.size)
      while (workers < wanted && !ownClosing) {
        workers++
        spawn(Effect.onInterrupt(worker, () => Effect.sync(() => workers--)), { immediate: false })
      }
    }

    /**
     * A request for the handler. When no handler is running and none waits, it is called here,
     * in the reader: an answer that is an `Exit` is sent at once, with no fiber and no mailbox
     * (most requests of a busy session). Otherwise the request goes through the mailbox.
     */
    const dispatch = (req: Session.Inbound): boolean => {
      if (workers === 0 && mailbox.size === 0) {
        const effect = callHandler(req)
        if (Exit.isExit(effect) && Exit.isSuccess(effect)) {
          reply(req, effect.value as Session.HandlerResult)
          return true
        }
        if (!mailbox.offer(new Job(req, effect))) return false
      } else if (!mailbox.offer(req)) {
        return false
      }
      startWorkers()
      return true
    }

    // --- the reader: one synchronous call per chunk

    const onResponse = (frame: Uint8Array, commandId: number, seq: number): void => {
      const entry = pending.get(seq)
      const decoded = Codec.decode(frame, decodeOptions)
      if (Either.isLeft(decoded)) {
        const error = decoded.left
        if (error.reason === "UnknownCommandId") {
          replyStatus(undefined, CommandStatus.ESME_RINVCMDID, seq)
          return
        }
        if (entry === undefined) {
          stats.unexpectedResponses++
          log("Warning", `undecodable response 0x${commandId.toString(16)} #${seq} with no request pending: ${error.message}`)
          return
        }
        settle(
          entry,
          Effect.fail(
            new MalformedResponse({ reason: "Undecodable", command: entry.pdu._tag, sequenceNumber: seq, cause: error })
          )
        )
        return
      }
      const pdu = decoded.right
      pdusIn.unsafeUpdate(1, commandLabels[pdu._tag])
      if (entry === undefined) {
        stats.unexpectedResponses++
        log("Warning", `${pdu._tag} #${seq} (${pdu.commandStatus}) with no request pending: dropped`)
        return
      }
      stats.responsesReceived++
      if (pdu._tag === "generic_nack") {
        settle(
          entry,
          Effect.fail(new GenericNack({ command: entry.pdu._tag, sequenceNumber: seq, status: pdu.commandStatus }))
        )
        return
      }
      if (CommandId[pdu._tag] !== (CommandId[entry.pdu._tag] | 0x80000000) >>> 0) {
        settle(
          entry,
          Effect.fail(
            new MalformedResponse({
              reason: "UnexpectedCommand",
              command: entry.pdu._tag,
              sequenceNumber: seq,
              cause: pdu._tag
            })
          )
        )
        return
      }
      if (pdu.commandStatus === CommandStatus.ESME_ROK) {
        if (role === "esme" && isBindResponse(pdu._tag) && state === "OPEN") {
          setState(BindState.afterBind(BindState.bindKindOf(pdu._tag)!))
        } else if (pdu._tag === "enquire_link_resp") {
          keepalive = Keepalive.onEnquireLinkResp(keepalive, now())
        }
      }
      settle(entry, Exit.succeed(pdu))
      // An unbind of ours sent with `request` is answered: the connection ends here.
      if (pdu._tag === "unbind_resp" && entry.kind === USER) requestClose("Unbound", false)
    }

    /** Answers whether the PDU counts as activity (anything but enquire_link traffic). */
    const onFrame = (frame: Uint8Array): boolean => {
      stats.pdusIn++
      const commandId = readU32(frame, 4)
      const seq = readU32(frame, 12)
      if ((commandId & 0x80000000) !== 0) {
        onResponse(frame, commandId, seq)
        return commandId !== CommandId.enquire_link_resp
      }
      const name = nameOf(commandId)
      if (name === undefined) {
        // Unknown command: not fatal, the frame is skipped.
        stats.requestsRefused++
        pdusIn.unsafeUpdate(1, rawLabels)
        replyStatus(undefined, CommandStatus.ESME_RINVCMDID, seq)
        return true
      }
      pdusIn.unsafeUpdate(1, commandLabels[name])
      const decision = BindState.canReceive(role, state, name)
      if (!decision.ok) {
        stats.requestsRefused++
        replyStatus(name, decision.status, seq)
        return true
      }
      const decoded = Codec.decode(frame, decodeOptions)
      if (Either.isLeft(decoded)) {
        stats.requestsRefused++
        log("Warning", `${name} #${seq} refused: ${decoded.left.message}`)
        replyStatus(name, decoded.left.status, seq)
        return true
      }
      const pdu = decoded.right
      switch (pdu._tag) {
        case "enquire_link":
          enqueue(Codec.encodeHeader("enquire_link_resp", CommandStatus.ESME_ROK, seq))
          return false
        case "unbind":
          enqueue(Codec.encodeHeader("unbind_resp", CommandStatus.ESME_ROK, seq))
          setState("UNBOUND")
          requestClose("PeerUnbound", false)
          return true
        default:
          if (dispatch(pdu as Session.Inbound)) {
            stats.requestsHandled++
          } else {
            // Mailbox full: ask the peer to slow down rather than buffer without bound.
            stats.requestsRefused++
            replyStatus(name, CommandStatus.ESME_RTHROTTLED, seq)
          }
          return true
      }
    }

    const onChunk = (chunk: Uint8Array): void => {
      if (readStopped) return
      stats.bytesIn += chunk.length
      const { error, frames } = framer.push(chunk)
      if (frames.length > 0) {
        let activity = false
        for (let i = 0; i < frames.length; i++) {
          if (onFrame(frames[i]!)) activity = true
        }
        keepalive = Keepalive.onTraffic(keepalive, now(), activity ? "activity" : "keepalive")
      }
      if (error !== undefined) {
        // No way to find the next PDU: answer, stop reading, close.
        readStopped = true
        log("Warning", error.message)
        enqueue(Codec.encodeHeader("generic_nack", error.status, error.sequenceNumber ?? 0))
        requestClose("InvalidCommandLength", false, error)
      }
    }

    // --- the writer: everything available, one buffer, one write

    const write = yield* Scope.extend(socket.writer, own)
    const afterWrite = (): void => {
      writeInProgress = false
    }

    const encodeFailure = (pdu: Pdu.Pdu, e: unknown): EncodeError =>
      e instanceof EncodeError ? e : new EncodeError({ command: String(pdu._tag), field: "", detail: String(e) })

    const writeBatch = (items: ReadonlyArray<Outbound>): Effect.Effect<void, Socket.SocketError> => {
      const time = now()
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
            settle(item, Effect.fail(encodeFailure(item.pdu, e)))
            continue
          }
          buffer.u32At(start + 12, item.seq)
          item.written = true
          item.deadline = time + item.timeout
          if (item.deadline < earliest) earliest = item.deadline
          pdusOut.unsafeUpdate(1, commandLabels[item.pdu._tag])
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
          try {
            Codec.encodeInto(buffer, item)
          } catch (e) {
            log("Error", `${item._tag} #${item.sequenceNumber} not sent: ${encodeFailure(item, e).message}`)
            if (Pdu.isResponse(item)) {
              // The peer still waits for an answer: a header that at least says we failed.
              const header = Codec.encodeHeader(item._tag, CommandStatus.ESME_RSYSERR, item.sequenceNumber)
              buffer.bytes(header)
            } else {
              continue
            }
          }
          pdusOut.unsafeUpdate(1, commandLabels[item._tag])
          count++
        }
      }
      stats.pdusOut += count
      if (earliest !== Number.POSITIVE_INFINITY) noteDeadline(earliest)
      if (buffer.pos === 0) {
        if (flushes !== undefined) for (const f of flushes) f.done()
        return Effect.void
      }
      const bytes = buffer.take()
      stats.bytesOut += bytes.length
      stats.writes++
      // Left set if the write fails: the session is closing then.
      writeInProgress = true
      if (flushes === undefined) return Effect.map(write(bytes), afterWrite)
      const done = flushes
      return Effect.ensuring(
        Effect.map(write(bytes), afterWrite),
        Effect.sync(() => { for (const f of done) f.done() })
      )
    }

    // Parked while nothing is queued: waking it costs less than starting a fiber per batch
    // (measured at window 1, where every request is a batch of its own).
    const writer = Effect.forever(Effect.flatMap(outbound.takeUpTo(MAX_BATCH), writeBatch)).pipe(
      Effect.catchAll((error) =>
        Effect.sync(() => {
          socketGone = true
          requestClose("SocketError", false, error)
        })
      )
    )

    const reader = Effect.matchCause(socket.run(onChunk), {
      onSuccess: () => {
        socketGone = true
        requestClose("PeerClosed", false)
      },
      onFailure: (cause) => {
        if (Cause.isInterruptedOnly(cause)) return
        socketGone = true
        const error = Cause.squash(cause)
        if (Socket.isSocketError(error) && error.reason === "Close") requestClose("PeerClosed", false, error)
        else requestClose("SocketError", false, error)
      }
    })

    // --- timers

    /** Fails requests past their response deadline, and waiters past the window bound. */
    const sweep = (time: number): void => {
      for (const entry of pending.values()) {
        if (entry.deadline > time) continue
        if (entry.kind === USER) {
          stats.responseTimeouts++
          responseTimeouts.unsafeUpdate(1, NO_LABELS)
        }
        settle(
          entry,
          Effect.fail(new ResponseTimeout({ command: entry.pdu._tag, sequenceNumber: entry.seq, timeout: entry.timeout }))
        )
      }
      // Waiters are in arrival order and share one bound: the expired ones are at the front.
      while (waitHead < waiters.length) {
        const entry = waiters[waitHead]!
        if (entry.status === WAITING) {
          if (time - entry.waitingSince < windowTimeout) break
          entry.status = DONE
          waiting--
          stats.windowTimeouts++
          windowTimeouts.unsafeUpdate(1, NO_LABELS)
          const resume = entry.resume
          entry.resume = undefined
          resume?.(
            Effect.fail(new WindowTimeout({ command: entry.pdu._tag, windowSize, waited: time - entry.waitingSince }))
          )
        }
        waiters[waitHead++] = undefined
      }
      if (waitHead === waiters.length) {
        waiters.length = 0
        waitHead = 0
      }
    }

    /** The earliest response or window deadline, Infinity when nothing waits. */
    const nextRequestDeadline = (): number => {
      let next = Number.POSITIVE_INFINITY
      for (const entry of pending.values()) {
        if (entry.deadline < next) next = entry.deadline
      }
      if (waiting > 0 && Number.isFinite(windowTimeout)) {
        for (let i = waitHead; i < waiters.length; i++) {
          const entry = waiters[i]!
          if (entry.status === WAITING) {
            next = Math.min(next, entry.waitingSince + windowTimeout)
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
    let heartbeatOn = true
    const beat = (time: number): void => {
      if (!heartbeatOn) return
      if (state === "OPEN" && time - openedAt >= sessionInit) {
        heartbeatOn = false
        log("Info", `no bind within ${sessionInit} ms: closing`)
        requestClose("SessionInitTimeout", false)
        return
      }
      const result = Keepalive.tick(keepalive, time)
      keepalive = result.state
      switch (result.action) {
        case "dead":
          heartbeatOn = false
          log("Warning", `${keepaliveConfig.maxMissed} enquire_link unanswered: the peer is dead`)
          requestClose("KeepaliveDead", false)
          return
        case "inactive":
          heartbeatOn = false
          log("Info", `no activity for ${keepaliveConfig.inactivity} ms: closing`)
          requestClose("Inactive", true)
          return
        case "send_enquire_link":
          if (!socketGone) {
            stats.enquireLinksSent++
            keepalive = Keepalive.onEnquireLinkSent(keepalive, time)
            // Its own timeout is the keepalive's business; the sweep only clears the entry.
            submitKeepalive()
          }
          return
        case "none":
          return
      }
    }

    const heartbeatDeadline = (): number => {
      if (!heartbeatOn) return Number.POSITIVE_INFINITY
      const deadline = Keepalive.nextDeadline(keepalive)
      return state === "OPEN" ? Math.min(deadline, openedAt + sessionInit) : deadline
    }

    /**
     * One timer fiber for every deadline: it sleeps until the earliest (keepalive, inactivity,
     * session_init, response, window), does what is due, and sleeps again — not at all while
     * nothing is due. Traffic only moves keepalive deadlines later, so waking at an old one
     * and finding nothing to do is the only cost of not being woken by it. A new deadline
     * earlier than the one slept for (by more than `timerResolution`) restarts the fiber.
     */
    let timerTarget = Number.POSITIVE_INFINITY
    let timerFiber: Fiber.RuntimeFiber<void, never> | undefined
    const parked: Effect.Effect<void> = Effect.async<void>(() => {})
    const timers: Effect.Effect<void> = Effect.suspend(() => {
      const time = now()
      sweep(time)
      beat(time)
      const target = Math.min(heartbeatDeadline(), nextRequestDeadline())
      timerTarget = target
      if (!Number.isFinite(target)) return parked
      return Effect.zipRight(Effect.sleep(Duration.millis(Math.max(1, target - time))), timers)
    })
    const startTimers = (): void => {
      const previous = timerFiber
      timerFiber = ownClosing ? undefined : spawn(timers, { immediate: false })
      previous?.unsafeInterruptAsFork(FiberId.none)
    }
    /** A deadline was set: wakes the timer fiber earlier if it has to. */
    const noteDeadline = (deadline: number): void => {
      if (deadline < timerTarget - resolution) {
        timerTarget = deadline
        startTimers()
      }
    }

    const submitKeepalive = (): void => {
      const entry = new Pending(
        { _tag: "enquire_link", commandStatus: 0, sequenceNumber: 0 },
        KEEPALIVE,
        keepaliveConfig.responseTimeout,
        undefined
      )
      admit(entry)
    }

    // --- closing

    const awaitDrained = Effect.async<void>((resume) => {
      if (inFlight === 0) return resume(Effect.void)
      drainWaiter = () => resume(Effect.void)
      return Effect.sync(() => {
        drainWaiter = undefined
      })
    })

    const flush = Effect.async<void>((resume) => {
      enqueue(new Flush(() => resume(Effect.void)))
    })

    const failWaiters = (error: SessionClosed): void => {
      while (waitHead < waiters.length) {
        const entry = waiters[waitHead]!
        waiters[waitHead++] = undefined
        if (entry.status !== WAITING) continue
        entry.status = DONE
        waiting--
        const resume = entry.resume
        entry.resume = undefined
        resume?.(Effect.fail(error))
      }
      waiters.length = 0
      waitHead = 0
    }

    const gracefulPart = Effect.gen(function*() {
      failWaiters(closing!)
      yield* Effect.timeout(awaitDrained, Duration.millis(drainTimeout)).pipe(Effect.ignore)
      if (BindState.isBound(state)) {
        yield* submit({ _tag: "unbind", commandStatus: 0, sequenceNumber: 0 }, UNBIND, responseTimeout, true).pipe(
          Effect.ignore
        )
      }
    })

    const supervisor = Effect.gen(function*() {
      const graceful = yield* Deferred.await(closeRequested)
      if (graceful) yield* Effect.raceFirst(gracefulPart, Deferred.await(hardStop))
      if (!socketGone) yield* Effect.timeout(flush, Duration.millis(drainTimeout)).pipe(Effect.ignore)
      const reason = closing!
      readStopped = true
      setState("CLOSED")
      failWaiters(reason)
      for (const entry of pending.values()) settle(entry, Effect.fail(reason))
      // Nothing is started from here on; what the logger did not write yet is written here.
      ownClosing = true
      const queued = events.splice(0, events.length)
      for (const event of queued) yield* Effect.logWithLevel(levelOf(event.level), event.message)
      yield* Effect.logDebug(`closed: ${reason.reason}`)
      yield* Scope.close(own, Exit.void)
      yield* Deferred.succeed(closedSignal, reason)
    })

    // --- start

    yield* Effect.forkIn(reader, own)
    yield* Effect.forkIn(writer, own)
    startTimers()
    // The supervisor starts with the first close request (see `requestClose`).

    const closeWith = (reason: CloseReason, graceful: boolean): Effect.Effect<SessionClosed> =>
      Effect.zipRight(Effect.sync(() => requestClose(reason, graceful)), Deferred.await(closedSignal))

    yield* Scope.addFinalizer(parentScope, closeWith("Closed", true))

    const hub: Effect.Effect<PubSub.PubSub<BindState.State>> = Effect.suspend(() =>
      stateHub !== undefined
        ? Effect.succeed(stateHub)
        : Effect.map(PubSub.unbounded<BindState.State>(), (made) => (stateHub ??= made))
    )

    const stateChanges: Stream.Stream<BindState.State> = Stream.suspend(() =>
      state === "CLOSED"
        ? Stream.make(state)
        : Stream.unwrapScoped(
          Effect.map(Effect.flatMap(hub, PubSub.subscribe), (subscription) => {
            // Subscribed before reading the state: no change can fall in between.
            const current = state
            return Stream.concat(Stream.make(current), Stream.fromQueue(subscription)).pipe(
              Stream.changes,
              Stream.takeUntil((s) => s === "CLOSED")
            )
          })
        )
    )

    const self: Session.Session = {
      id,
      role,
      request,
      send,
      sendBytes,
      state: Effect.sync(() => state),
      stateChanges,
      closed: Deferred.await(closedSignal),
      close: closeWith("Closed", true),
      unbind: closeWith("Unbound", true),
      abort: closeWith("Aborted", false),
      stats: Effect.sync(() => ({ ...stats, inFlight, waiting }))
    }
    return self
  })

const levelOf = (level: LogEvent["level"]): LogLevel.LogLevel =>
  level === "Debug"
    ? LogLevel.Debug
    : level === "Info"
    ? LogLevel.Info
    : level === "Warning"
    ? LogLevel.Warning
    : LogLevel.Error
