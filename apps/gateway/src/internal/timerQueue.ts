/**
 * Many timers, one fiber: values are kept in a binary min-heap by due time (epoch millis on
 * the `Clock`), and one fiber sleeps until the earliest is due, then hands every due value
 * to `onDue` at once, in due order (first come first for equal times): one call per wake-up,
 * not per value. Adding an earlier value wakes the fiber. Cheaper than a sleeping fiber per
 * timer when there are tens of thousands.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

/** @internal */
export interface TimerQueue<A> {
  /** Hands `value` to `onDue` at `at` (epoch millis), or at once if that has passed. */
  readonly add: (at: number, value: A) => Effect.Effect<void>
  /** `add` from plain code (no effect to run). */
  readonly unsafeAdd: (at: number, value: A) => void
  readonly size: () => number
}

interface Node<A> {
  readonly at: number
  readonly seq: number
  readonly value: A
}

const before = <A>(a: Node<A>, b: Node<A>) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

/** @internal */
export const make = <A>(
  onDue: (values: ReadonlyArray<A>) => Effect.Effect<void>
): Effect.Effect<TimerQueue<A>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const heap: Array<Node<A>> = []
    let seq = 0
    const wake = yield* Queue.sliding<void>(1)

    const push = (node: Node<A>) => {
      heap.push(node)
      let i = heap.length - 1
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (!before(heap[i], heap[parent])) break
        ;[heap[i], heap[parent]] = [heap[parent], heap[i]]
        i = parent
      }
    }

    const pop = (): Node<A> => {
      const top = heap[0]
      const last = heap.pop()!
      if (heap.length > 0) {
        heap[0] = last
        let i = 0
        while (true) {
          const l = 2 * i + 1
          const r = l + 1
          let m = i
          if (l < heap.length && before(heap[l], heap[m])) m = l
          if (r < heap.length && before(heap[r], heap[m])) m = r
          if (m === i) break
          ;[heap[i], heap[m]] = [heap[m], heap[i]]
          i = m
        }
      }
      return top
    }

    const loop = Effect.gen(function*() {
      while (true) {
        const now = yield* Clock.currentTimeMillis
        if (heap.length > 0 && heap[0].at <= now) {
          const due: Array<A> = []
          while (heap.length > 0 && heap[0].at <= now) due.push(pop().value)
          yield* onDue(due)
        }
        if (heap.length === 0) yield* Queue.take(wake)
        else yield* Effect.raceFirst(Effect.sleep(heap[0].at - now), Queue.take(wake))
      }
    })
    yield* Effect.forkScoped(loop)

    const unsafeAdd = (at: number, value: A) => {
      const earliest = heap.length === 0 || at < heap[0].at
      push({ at, seq: seq++, value })
      if (earliest) Queue.unsafeOffer(wake, undefined)
    }
    const add = (at: number, value: A) => Effect.sync(() => unsafeAdd(at, value))

    return { add, unsafeAdd, size: () => heap.length }
  })
