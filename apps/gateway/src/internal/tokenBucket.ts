/**
 * A token bucket on the Effect `Clock`: `rate` tokens per second, at most `burst` saved up.
 * The state is two numbers changed inside one `Effect.sync`, so it is atomic for the fibers
 * of one process.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** @internal */
export interface TokenBucket {
  /** Takes `count` tokens if there are that many; whether it did. */
  readonly take: (count?: number) => Effect.Effect<boolean>
  /** `take` at `now` (the Clock's time, read by the caller). */
  readonly unsafeTake: (now: number, count?: number) => boolean
}

/** @internal */
export const make = (rate: number, burst: number): TokenBucket => {
  let tokens = burst
  let last: number | undefined
  const unsafeTake = (now: number, count = 1) => {
    if (last === undefined) last = now
    if (now > last) {
      tokens = Math.min(burst, tokens + ((now - last) * rate) / 1000)
      last = now
    }
    if (tokens + 1e-9 >= count) {
      tokens -= count
      return true
    }
    return false
  }
  const take = (count = 1) => Effect.map(Clock.currentTimeMillis, (now) => unsafeTake(now, count))
  return { take, unsafeTake }
}

/** A bucket that always has tokens. @internal */
export const unlimited: TokenBucket = { take: () => Effect.succeed(true), unsafeTake: () => true }
