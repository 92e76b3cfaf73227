/**
 * One timer fiber for many sessions: a binary heap of (deadline, owner), and one fiber that
 * sleeps on the `Clock` until the earliest, calls the owners that are due and sleeps again —
 * not at all while the heap is empty. A server's sessions share one (measured: a timer fiber
 * per session was ~5 KiB of each idle session's heap); a lone session has its own.
 *
 * An owner keeps the deadline it wants in `timerAt`; an entry whose time is not its owner's
 * `timerAt` any more is stale and skipped. Owners only ask for earlier deadlines: a later one
 * (traffic postponed a keepalive) is found when the old one fires and the owner finds nothing
 * due.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"

/** @internal */
export interface Timed {
  /** The deadline the owner is waiting for (Infinity: none). */
  timerAt: number
  readonly onTimer: (now: number) => void
}

/** @internal */
export class Deadlines {
  private times: Array<number> = []
  private owners: Array<Timed> = []
  /** What the fiber sleeps until (Infinity: parked, or none). */
  private target = Number.POSITIVE_INFINITY
  private fiber: Fiber.RuntimeFiber<void, never> | undefined = undefined
  private closed = false
  private readonly loop: Effect.Effect<void>

  constructor(
    private readonly runtime: Runtime.Runtime<never>,
    private readonly now: () => number
  ) {
    this.loop = Effect.suspend(() => {
      const time = this.now()
      this.fire(time)
      const next = this.times.length > 0 ? this.times[0]! : Number.POSITIVE_INFINITY
      this.target = next
      if (!Number.isFinite(next)) {
        this.fiber = undefined
        return Effect.void
      }
      return Effect.zipRight(Effect.sleep(Duration.millis(Math.max(1, next - time))), this.loop)
    })
  }

  /** Asks for `owner.onTimer` at `at` (sets `owner.timerAt`); `slack`: how late it may come. */
  schedule(owner: Timed, at: number, slack: number): void {
    owner.timerAt = at
    if (this.closed || !Number.isFinite(at)) return
    this.push(at, owner)
    if (at < this.target - slack) {
      this.target = at
      const previous = this.fiber
      this.fiber = Runtime.runFork(this.runtime)(this.loop, { immediate: false })
      previous?.unsafeInterruptAsFork(FiberId.none)
    }
  }

  /** Stops the fiber; later `schedule`s do nothing. */
  close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closed = true
      this.times = []
      this.owners = []
      const fiber = this.fiber
      this.fiber = undefined
      return fiber === undefined ? Effect.void : fiber.interruptAsFork(FiberId.none)
    })
  }

  private fire(time: number): void {
    while (this.times.length > 0 && this.times[0]! <= time) {
      const at = this.times[0]!
      const owner = this.owners[0]!
      this.pop()
      if (owner.timerAt === at) {
        owner.timerAt = Number.POSITIVE_INFINITY
        owner.onTimer(time)
      }
    }
  }

  private push(at: number, owner: Timed): void {
    const times = this.times
    const owners = this.owners
    let i = times.length
    times.push(at)
    owners.push(owner)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (times[parent]! <= at) break
      times[i] = times[parent]!
      owners[i] = owners[parent]!
      i = parent
    }
    times[i] = at
    owners[i] = owner
  }

  private pop(): void {
    const times = this.times
    const owners = this.owners
    const lastTime = times.pop()!
    const lastOwner = owners.pop()!
    const n = times.length
    if (n === 0) return
    let i = 0
    while (true) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && times[right]! < times[left]! ? right : left
      if (times[child]! >= lastTime) break
      times[i] = times[child]!
      owners[i] = owners[child]!
      i = child
    }
    times[i] = lastTime
    owners[i] = lastOwner
  }
}

/** @internal A `Deadlines` whose fiber stops with the Scope. */
export const make: Effect.Effect<Deadlines, never, Scope.Scope> = Effect.flatMap(
  Effect.zip(Effect.runtime<never>(), Effect.clock),
  ([runtime, clock]) =>
    Effect.acquireRelease(
      Effect.sync(() => new Deadlines(runtime, () => clock.unsafeCurrentTimeMillis())),
      (deadlines) => deadlines.close()
    )
)
