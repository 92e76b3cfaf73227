/**
 * Takes receipts and MOs from the `DeliveryQueue` to the customers' receiver sessions.
 *
 * One worker per account that has a receiver (RX or TRX) session bound: it leases the
 * account's due items (`DeliveryQueue.take`), sends each to one of the account's receiver
 * sessions (one attempt each, the queue's schedule decides the next), `ack`s it on ESME_ROK
 * and `retry`s it otherwise. With no receiver left the
 * worker ends, giving back what it had leased untried; it starts again when a receiver
 * binds. It sleeps until the account's next item is due, woken earlier by `enqueue`
 * (`DeliveryQueue.subscribe`), by its own deliveries being retried, and, when all its
 * slots (`maxInFlight`) are taken, by one ending. The queue is persisted, so after a
 * restart the items are delivered once a receiver binds again.
 *
 * A worker holds a claim on its account's new items (`DeliveryQueue.claim`): receipts and MOs
 * that `Outcomes` writes while the worker has room (up to `backlog` waiting, default
 * 16 × `maxInFlight`) are inserted already leased to it and handed over once committed, so the
 * common path has no `take` (no UPDATE, no commit of its own, no decoding of stored octets);
 * it `take`s only when told that the queue holds more (an enqueue, a retry, its timer, a bind).
 *
 * Each item is sent straight on one of the account's receiver sessions (round robin, the
 * list read once per wake-up) with `Session.unsafeRequest`: no fiber, log annotation, span or
 * retry schedule per delivery, its outcome a callback. An ESME_ROK is acknowledged in that
 * callback with `ackLater` (batched, not waited for: a crash before its commit only delivers
 * the item again); only an attempt that failed runs an effect (retry, release, or
 * `SmppServer.deliver` on another session when that one could not take it: closing, window
 * stuck), as a fiber of the worker's runtime. The workers run with the tracer off.
 *
 * Accounts listed in `dataSm` get data_sm instead of deliver_sm (the body in message_payload).
 *
 * @since 0.1.0
 */
import type * as Session from "@effect-smpp/runtime/Session"
import * as SmppServer from "@effect-smpp/runtime/SmppServer"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Accounts } from "./Accounts.js"
import { DeliveryQueue, type DeliveryItem } from "./DeliveryQueue.js"
import { messageHeaderOf } from "./internal/pduFields.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Deliveries in flight per account at most. Default 1000. */
  readonly maxInFlight?: number | undefined
  /**
   * Items handed over by `Outcomes` (already leased, in memory) that a worker keeps waiting
   * beyond those in flight; beyond, new items stay in the queue for a `take`. Default
   * 16 × `maxInFlight` (a few MB): under a burst, a `take` costs ~10 µs per row more than a
   * hand-over (measured: 4× left a quarter of a 30,000-receipt burst to `take`).
   */
  readonly backlog?: number | undefined
  /** Each attempt's response timeout; default the session's response timeout. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Accounts that get data_sm instead of deliver_sm. */
  readonly dataSm?: ReadonlyArray<string> | undefined
  /**
   * How often every account is checked for queued items and bound receivers (a safety net
   * for wake-ups missed, e.g. items queued by another gateway). Default 5 seconds.
   */
  readonly checkInterval?: Duration.DurationInput | undefined
  /** Shortest sleep of a worker that found nothing to take though something is due. Default 100 ms. */
  readonly minSleep?: Duration.DurationInput | undefined
}

/**
 * The data_sm that carries a deliver_sm's content (body in message_payload).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toDataSm = (pdu: Pdu.DeliverSm): Pdu.DataSm =>
  Pdu.make("data_sm", {
    ...messageHeaderOf(pdu),
    tlvs: pdu.shortMessage.length > 0 ? { ...pdu.tlvs, messagePayload: pdu.shortMessage } : pdu.tlvs
  })

// a worker's wake-up signal; `takeDue`: the queue may hold due items it has not taken (set by
// outside wake-ups, retries and the timer; a wake-up for items handed over leaves it alone)
interface Worker {
  readonly signal: Queue.Queue<void>
  takeDue: boolean
}

const isReceiver = (info: SmppServer.SessionInfo) => info.kind === "receiver" || info.kind === "transceiver"

// one attempt per deliver: the queue's schedule decides when to try again
const once = Schedule.stop

/**
 * Starts the deliverer in the Scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options) =>
  Effect.gen(function*() {
    const server = yield* SmppServer.SmppServer
    const queue = yield* DeliveryQueue
    const accounts = yield* Accounts
    const maxInFlight = options?.maxInFlight ?? 1000
    const backlogMax = options?.backlog ?? 16 * maxInFlight
    const takeBatch = 256
    const dataSm = new Set(options?.dataSm ?? [])
    const minSleep = Duration.toMillis(options?.minSleep ?? Duration.millis(100))
    const deliverOptions = { schedule: once, ...(options?.timeout === undefined ? {} : { timeout: options.timeout }) }
    const workers = yield* FiberSet.make<void, never>()
    const wakes = new Map<string, Worker>()

    const requestOptions = options?.timeout === undefined ? undefined : { timeout: options.timeout }
    const receiversOf = (account: string) => Effect.map(server.sessionsOf(account), (infos) => infos.filter(isReceiver))
    const hasReceiver = (account: string) => Effect.map(server.sessionsOf(account), (infos) => infos.some(isReceiver))

    const pduOf = (item: DeliveryItem) => dataSm.has(item.account) ? toDataSm(item.pdu) : item.pdu

    /**
     * The outcome of one attempt on the session the worker picked, as `unsafeRequest` calls
     * back: an ESME_ROK is acknowledged on the spot (`ackLater`, batched, not waited for: losing
     * it to a crash only delivers the item again) and nothing is left to run (`undefined`);
     * anything else answers the effect that records it (whether the item is still queued).
     * A response (whatever its status), a generic_nack or no answer in time is the attempt's
     * outcome; only when the session could not take it (closing, window stuck) does
     * `SmppServer.deliver` try the account's other sessions.
     */
    const outcomeOf = (
      item: DeliveryItem,
      exit: Exit.Exit<Pdu.DeliverSmResp | Pdu.DataSmResp, Session.RequestError>,
      clock: Clock.Clock
    ): Effect.Effect<boolean> | undefined => {
      if (exit._tag === "Success") {
        const status = exit.value.commandStatus
        if (status === CommandStatus.ESME_ROK) {
          queue.ackLater(item.id, clock.unsafeCurrentTimeMillis())
          return undefined
        }
        return deliveryFailed(item, new SmppServer.DeliveryError({ reason: "Refused", systemId: item.account, status }))
      }
      const failure = Cause.failureOption(exit.cause)
      // not a failure (a defect): as an attempt without an answer
      if (Option.isNone(failure)) {
        return deliveryFailed(item, new SmppServer.DeliveryError({ reason: "Exhausted", systemId: item.account }))
      }
      const error = failure.value
      switch (error._tag) {
        case "ResponseTimeout":
        case "MalformedResponse":
          // an attempt without an answer: the queue's schedule decides the next
          return deliveryFailed(item, new SmppServer.DeliveryError({ reason: "Exhausted", systemId: item.account }))
        case "GenericNack":
          return deliveryFailed(
            item,
            new SmppServer.DeliveryError({ reason: "Refused", systemId: item.account, status: error.status })
          )
        case "EncodeError":
          return deliveryFailed(
            item,
            new SmppServer.DeliveryError({ reason: "Invalid", systemId: item.account, cause: error })
          )
        default:
          // the session is closing or stuck: another of the account's sessions, if any
          return deliverAnywhere(item)
      }
    }

    /** One attempt through `SmppServer.deliver` (any receiver session of the account). */
    const deliverAnywhere = (item: DeliveryItem): Effect.Effect<boolean> =>
      Effect.matchEffect(server.deliver(item.account, pduOf(item), deliverOptions), {
        onSuccess: () =>
          Effect.clockWith((clock) => {
            queue.ackLater(item.id, clock.unsafeCurrentTimeMillis())
            return Effect.succeed(false)
          }),
        onFailure: (error) => deliveryFailed(item, error)
      })

    // the log annotations are made only here: per delivery they would cost more than the send
    const failedToRecord = (item: DeliveryItem, error: unknown) =>
      Effect.logError(`delivery ${item.id} could not be recorded`, error).pipe(
        Effect.annotateLogs({ account: item.account, delivery: String(item.id) })
      )

    const deliveryFailed = (item: DeliveryItem, error: SmppServer.DeliveryError): Effect.Effect<boolean> =>
      Effect.gen(function*() {
        if (error.reason === "Invalid") {
          // cannot ever be sent: drop it rather than retry it until its TTL
          yield* Effect.logError(`delivery ${item.id} cannot be encoded: dropped`, error.cause)
          yield* queue.ack(item.id)
          return false
        }
        if (error.status !== undefined) {
          yield* queue.retry(item.id, error.status)
        } else if (yield* hasReceiver(item.account)) {
          // no answer in time
          yield* queue.retry(item.id, "timeout")
        } else {
          // no receiver left to try
          yield* queue.release([item.id])
        }
        return true
      }).pipe(
        Effect.catchAll((error) => Effect.as(failedToRecord(item, error), true)),
        Effect.annotateLogs({ account: item.account, delivery: String(item.id) })
      )

    const worker = (account: string, state: Worker): Effect.Effect<void> =>
      Effect.gen(function*() {
        const wake = state.signal
        // the sends are plain callbacks (`unsafeRequest`); only an attempt that failed runs an
        // effect, as a fiber of this runtime (tracer off, the worker's annotations) kept in a Set
        const runtime = yield* Effect.runtime<never>()
        const clock = yield* Effect.clock
        const failures = new Set<Fiber.RuntimeFiber<void, never>>()
        let drained: (() => void) | undefined
        yield* Effect.addFinalizer(() => Fiber.interruptAll(failures))
        let inFlight = 0
        let waitingForSlots = false
        let open = true
        // items leased to this worker by `writeAll` (its claim), not sent yet
        let backlog: Array<DeliveryItem> = []
        let head = 0
        yield* queue.claim(account, {
          // up to `backlog` waiting beyond those in flight: they are in memory already
          room: () => open ? backlogMax - (backlog.length - head) : 0,
          offer: (items) => {
            if (!open) return false
            for (const item of items) backlog.push(item)
            Queue.unsafeOffer(wake, undefined)
            return true
          }
        })
        // an attempt done: an acknowledged one matters to the loop only when it waits for a
        // free slot; one retried or given back changes when the next item is due
        const finished = (requeued: boolean) => {
          inFlight--
          if (requeued) state.takeDue = true
          if (requeued || waitingForSlots) Queue.unsafeOffer(wake, undefined)
          if (inFlight === 0 && drained !== undefined) drained()
        }
        const send = (item: DeliveryItem, session: Session.Session) => {
          session.unsafeRequest(pduOf(item), (exit) => {
            const failed = outcomeOf(item, exit, clock)
            if (failed === undefined) return finished(false)
            const fiber = Runtime.runFork(runtime)(Effect.map(failed, finished))
            failures.add(fiber)
            fiber.addObserver(() => failures.delete(fiber))
          }, requestOptions)
        }
        let turn = 0
        let next = Option.none<number>()
        // starts what waits in the backlog while slots are free; round robin over the receivers
        const drain = (receivers: ReadonlyArray<SmppServer.SessionInfo>, now: number) => {
          while (inFlight < maxInFlight && head < backlog.length) {
            const item = backlog[head++]
            if (item.nextAttemptAt <= now) {
              // its lease ran out while it waited here: due in the queue, `take` gets it
              state.takeDue = true
              continue
            }
            inFlight++
            send(item, receivers[turn++ % receivers.length].session)
          }
          if (head === backlog.length && head > 0) {
            backlog = []
            head = 0
          }
        }
        while (true) {
          const receivers = yield* receiversOf(account)
          if (receivers.length === 0) break
          // what was handed over (or taken) first, then more from the queue when it holds more
          const now = yield* Clock.currentTimeMillis
          drain(receivers, now)
          if (state.takeDue && inFlight < maxInFlight) {
            // the slots free now, and at least `takeBatch` more into the backlog: under load,
            // fewer and larger takes (each is a commit of its own)
            const limit = Math.max(maxInFlight - inFlight, Math.min(takeBatch, backlogMax - (backlog.length - head)))
            const items = yield* queue.take(account, { limit })
            for (const item of items) backlog.push(item)
            if (items.length < limit) state.takeDue = false
            drain(receivers, now)
            // taken all that was due: when the next one is (else the next wake-up takes more)
            if (!state.takeDue) next = yield* queue.nextDueAt(account)
          }
          if (inFlight >= maxInFlight) {
            waitingForSlots = true
            yield* Queue.take(wake)
            waitingForSlots = false
            continue
          }
          // nothing queued: sleep until told; something due but not taken (expiring): not long
          const sleep = Option.isNone(next)
            ? Effect.never
            : Effect.sleep(Duration.millis(Math.max(minSleep, next.value - (yield* Clock.currentTimeMillis))))
          if (yield* Effect.raceFirst(Effect.as(sleep, true), Effect.as(Queue.take(wake), false))) {
            state.takeDue = true
          }
        }
        // from here a receiver binding starts a new worker
        open = false
        wakes.delete(account)
        // the session's end fails the deliveries in flight: let them give their items back
        if (inFlight > 0) {
          yield* Effect.async<void>((resume) => {
            drained = () => resume(Effect.void)
          })
        }
        yield* queue.release(backlog.slice(head).map((item) => item.id))
      }).pipe(
        Effect.scoped,
        Effect.catchAll((error) => Effect.logError("delivery worker failed", error)),
        Effect.ensuring(Effect.sync(() => {
          if (wakes.get(account) === state) wakes.delete(account)
        })),
        Effect.annotateLogs({ module: "Deliverer", account }),
        Effect.withTracerEnabled(false)
      )

    /** Wakes the account's worker (to look at the queue), or starts one if a receiver is bound. */
    const wake = (account: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        const existing = wakes.get(account)
        if (existing !== undefined) {
          existing.takeDue = true
          return Queue.offer(existing.signal, undefined)
        }
        return Effect.flatMap(hasReceiver(account), (bound) =>
          bound
            ? Effect.flatMap(Queue.sliding<void>(1), (signal) =>
              Effect.suspend(() => {
                // another wake may have started it meanwhile
                const started = wakes.get(account)
                if (started !== undefined) {
                  started.takeDue = true
                  return Queue.offer(started.signal, undefined)
                }
                const state: Worker = { signal, takeDue: true }
                wakes.set(account, state)
                return Effect.asVoid(FiberSet.run(workers, worker(account, state)))
              }))
            : Effect.void)
      })

    // something queued for an account
    const enqueued = yield* queue.subscribe
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(enqueued), wake)))
    // a receiver bound
    yield* Effect.forkScoped(
      Stream.runForEach(server.events, (event) =>
        event._tag === "Bound" && (event.kind === "receiver" || event.kind === "transceiver")
          ? wake(event.systemId)
          : Effect.void)
    )
    // the safety net, and the first look after a restart
    const checkAll = Effect.forEach(accounts.all(), (account) => wake(account.systemId), { discard: true })
    yield* Effect.forkScoped(
      Effect.repeat(checkAll, Schedule.spaced(options?.checkInterval ?? Duration.seconds(5)))
    )

    return {
      /** Wakes (or starts) the account's worker. */
      wake,
      /** Accounts with a worker running now. */
      active: (): ReadonlyArray<string> => [...wakes.keys()]
    }
  })

/**
 * @since 0.1.0
 * @category models
 */
export type Service = Effect.Effect.Success<ReturnType<typeof make>>

/**
 * The deliverer as a service; needs the `SmppServer`, the `DeliveryQueue` and `Accounts`.
 *
 * @since 0.1.0
 * @category services
 */
export class Deliverer extends Effect.Service<Deliverer>()("@effect-smpp/gateway/Deliverer", {
  scoped: make()
}) {}

/**
 * The deliverer with explicit options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<Deliverer, never, SmppServer.SmppServer | DeliveryQueue | Accounts> =>
  Layer.scoped(Deliverer, Effect.map(make(options), Deliverer.make))
