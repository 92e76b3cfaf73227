/**
 * An unbounded FIFO with one consumer fiber that takes everything queued at once: what one
 * end of a `MemorySocket` reads from. Offers are synchronous (callable from callbacks); the
 * consumer parks with one `Effect.async` when the queue is empty.
 *
 * Why not `Queue.takeBetween`: it parks through a Deferred and hands out a Chunk built one
 * element at a time, which costs more than the work of a small PDU (measured in
 * bench/SessionLoop.ts).
 */
import * as Effect from "effect/Effect"

/** @internal */
export class BatchQueue<A> {
  private items: Array<A> = []
  private waiter: ((effect: Effect.Effect<void>) => void) | undefined = undefined

  get size(): number {
    return this.items.length
  }

  offer(item: A): void {
    this.items.push(item)
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(Effect.void)
    }
  }

  /** Up to `max` items, in order, waiting for at least one. */
  takeUpTo(max: number): Effect.Effect<Array<A>> {
    return Effect.suspend(() => {
      if (this.items.length === 0) return Effect.zipRight(this.park, this.takeUpTo(max))
      if (this.items.length <= max) {
        const out = this.items
        this.items = []
        return Effect.succeed(out)
      }
      return Effect.succeed(this.items.splice(0, max))
    })
  }

  private readonly park: Effect.Effect<void> = Effect.async<void>((resume) => {
    this.waiter = resume
    return Effect.sync(() => {
      if (this.waiter === resume) this.waiter = undefined
    })
  })
}
