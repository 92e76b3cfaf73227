/**
 * Group commit: callers `submit` one item each and wait; a single writer fiber takes
 * whatever has queued up (at most `maxBatch`), runs it as one batch (the caller's `run`,
 * typically one transaction) and answers every caller. While one batch commits, the next
 * one gathers, so the batch size follows the load without a timer. `window` adds a wait
 * for more items after the first one (default none).
 *
 * A failed batch is retried item by item, so one bad item fails only its own caller.
 * On scope close, new submits fail with `closed()`, and everything queued before is still
 * written before the scope's other finalizers (the database connection) run. The writer is
 * uninterruptible: it stops at the stop signal the close queues behind the last item.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

/** @internal */
export interface Batcher<I, O, E> {
  readonly submit: (item: I) => Effect.Effect<O, E>
  /** Batches run and items written so far. */
  readonly stats: () => Stats
}

/** @internal */
export interface Stats {
  readonly batches: number
  readonly items: number
}

/** @internal */
export interface Options<I, O, E> {
  readonly maxBatch: number
  readonly window?: Duration.DurationInput | undefined
  /** Items waiting at most; beyond, `submit` waits (backpressure). Default 65536. */
  readonly capacity?: number | undefined
  /** Runs one batch; the results in the order of the items. */
  readonly run: (items: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<O>, E>
  /** Called after a failed batch, before its items are retried one by one. */
  readonly onFailure?: Effect.Effect<void> | undefined
  readonly closed: () => E
}

interface Entry<I, O, E> {
  readonly item: I
  readonly deferred: Deferred.Deferred<O, E>
}

/** @internal */
export const make = <I, O, E>(options: Options<I, O, E>): Effect.Effect<Batcher<I, O, E>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* Queue.bounded<Entry<I, O, E> | null>(options.capacity ?? 65536)
    const window = Duration.decode(options.window ?? Duration.zero)
    const hasWindow = Duration.toMillis(window) > 0
    let closed = false
    let batches = 0
    let items = 0

    const complete = (entry: Entry<I, O, E>, exit: Exit.Exit<O, E>) => Deferred.done(entry.deferred, exit)

    const runOne = (entry: Entry<I, O, E>) =>
      Effect.flatMap(
        Effect.exit(options.run([entry.item])),
        (exit) => complete(entry, Exit.map(exit, (results) => results[0] as O))
      )

    const process = (entries: ReadonlyArray<Entry<I, O, E>>) =>
      Effect.gen(function*() {
        batches++
        items += entries.length
        const exit = yield* Effect.exit(options.run(entries.map((entry) => entry.item)))
        if (Exit.isSuccess(exit)) {
          const results = exit.value
          for (let i = 0; i < entries.length; i++) yield* complete(entries[i], Exit.succeed(results[i] as O))
        } else if (entries.length > 1) {
          if (options.onFailure !== undefined) yield* options.onFailure
          for (const entry of entries) yield* runOne(entry)
        } else {
          yield* complete(entries[0], Exit.failCause(exit.cause))
        }
      }).pipe(Effect.uninterruptible)

    // null is the stop signal: it is queued behind everything submitted before the close
    const takeBatch = Effect.gen(function*() {
      const first = yield* Queue.takeBetween(queue, 1, options.maxBatch)
      if (!hasWindow || first.length >= options.maxBatch) return first
      yield* Effect.sleep(window)
      return Chunk.appendAll(first, yield* Queue.takeUpTo(queue, options.maxBatch - first.length))
    })

    const writer = yield* Effect.forkDaemon(Effect.gen(function*() {
      while (true) {
        const batch = Chunk.toReadonlyArray(yield* takeBatch)
        const entries = batch.filter((entry): entry is Entry<I, O, E> => entry !== null)
        if (entries.length > 0) yield* process(entries)
        if (entries.length < batch.length) return
      }
    }).pipe(Effect.uninterruptible))

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        closed = true
        yield* Queue.offer(queue, null)
        yield* Fiber.await(writer)
        // submits that were waiting for room in a full queue when the stop signal went in
        const rest = Chunk.toReadonlyArray(yield* Queue.takeAll(queue)).filter(
          (entry): entry is Entry<I, O, E> => entry !== null
        )
        if (rest.length > 0) yield* process(rest)
        yield* Queue.shutdown(queue)
      })
    )

    const submit = (item: I): Effect.Effect<O, E> =>
      Effect.suspend(() => {
        if (closed) return Effect.fail(options.closed())
        return Effect.flatMap(Deferred.make<O, E>(), (deferred) =>
          Effect.zipRight(Queue.offer(queue, { item, deferred }), Deferred.await(deferred)))
      })

    return { submit, stats: (): Stats => ({ batches, items }) }
  })
