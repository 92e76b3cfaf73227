import { describe, it, assert } from "@effect/vitest"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import * as TestClock from "effect/TestClock"
import * as Resend from "../src/Resend.js"

const statuses = Object.entries(CommandStatus)

/** Steps a schedule by hand (no clock), returning the delay before each recurrence until it is done. */
const delaysOf = <In>(schedule: Schedule.Schedule<Duration.Duration, In>, input: In, max: number) =>
  Effect.gen(function*() {
    let state = schedule.initial
    let now = 0
    const delays: Array<number> = []
    for (let i = 0; i < max; i++) {
      const [next, out, decision] = yield* schedule.step(now, input, state)
      if (ScheduleDecision.isDone(decision)) break
      const start = Intervals.start(decision.intervals)
      // The output is the delay actually waited.
      assert.strictEqual(Duration.toMillis(out), start - now)
      delays.push(start - now)
      now = start
      state = next
    }
    return delays
  })

/** Nominal delay n (ms) and its jitter bounds, under the cap. */
const bounds = (n: number, base = 1000, cap = 60_000) => {
  const nominal = Math.min(cap, base * 2 ** n)
  return [Math.round(nominal * 0.8), Math.min(cap, Math.round(nominal * 1.2))] as const
}

describe("Resend", () => {
  describe("classifyClient", () => {
    it("retries timeouts, ESME_RTHROTTLED and ESME_RMSGQFUL; everything else is final", () => {
      assert.strictEqual(Resend.classifyClient("timeout"), "retry")
      for (const [name, value] of statuses) {
        const expected = name === "ESME_RTHROTTLED" || name === "ESME_RMSGQFUL" ? "retry" : "final"
        assert.strictEqual(Resend.classifyClient(value), expected, name)
      }
      // Vendor-specific and unknown statuses are final.
      assert.strictEqual(Resend.classifyClient(0x401), "final")
    })
  })

  describe("classifyDelivery", () => {
    it("retries everything but ESME_ROK, ESME_RX_P_APPN and ESME_RX_R_APPN", () => {
      assert.strictEqual(Resend.classifyDelivery("timeout"), "retry")
      for (const [name, value] of statuses) {
        const expected = name === "ESME_ROK" || name === "ESME_RX_P_APPN" || name === "ESME_RX_R_APPN"
          ? "final"
          : "retry"
        assert.strictEqual(Resend.classifyDelivery(value), expected, name)
      }
      assert.strictEqual(Resend.classifyDelivery(CommandStatus.ESME_RX_T_APPN), "retry")
      assert.strictEqual(Resend.classifyDelivery(CommandStatus.ESME_RTHROTTLED), "retry")
      assert.strictEqual(Resend.classifyDelivery(0x401), "retry")
    })
  })

  describe("schedules", () => {
    it.effect("client: 4 retries (5 attempts), exponential from 1 s with ±20% jitter", () =>
      Effect.gen(function*() {
        for (let run = 0; run < 20; run++) {
          const delays = yield* delaysOf(Resend.clientSchedule(), undefined, 100)
          assert.strictEqual(delays.length, 4)
          delays.forEach((d, n) => {
            const [lo, hi] = bounds(n)
            assert.isAtLeast(d, lo, `delay ${n}`)
            assert.isAtMost(d, hi, `delay ${n}`)
          })
        }
      }))

    it.effect("jitter varies the delays", () =>
      Effect.gen(function*() {
        const firsts = new Set<number>()
        for (let run = 0; run < 20; run++) firsts.add((yield* delaysOf(Resend.clientSchedule(), undefined, 1))[0]!)
        assert.isAbove(firsts.size, 1)
      }))

    it.effect("delivery: unbounded, growing to the 60 s cap and never past it", () =>
      Effect.gen(function*() {
        const delays = yield* delaysOf(Resend.deliverySchedule(), undefined, 1200)
        assert.strictEqual(delays.length, 1200)
        delays.forEach((d, n) => {
          const [lo, hi] = bounds(n)
          if (!(d >= lo && d <= hi)) assert.fail(`delay ${n} = ${d} outside [${lo}, ${hi}]`)
        })
        // From the 7th delay (64 s nominal) on, every delay sits in [48 s, 60 s].
        assert.isAtMost(Math.max(...delays), 60_000)
        assert.isAtLeast(Math.min(...delays.slice(6)), 48_000)
      }))

    it.effect("honours base, factor, cap and attempts", () =>
      Effect.gen(function*() {
        const delays = yield* delaysOf(
          Resend.clientSchedule({ base: "100 millis", factor: 3, cap: "1 second", attempts: 6 }),
          undefined,
          100
        )
        assert.strictEqual(delays.length, 5)
        const nominal = [100, 300, 900, 1000, 1000]
        delays.forEach((d, n) => {
          assert.isAtLeast(d, Math.round(nominal[n]! * 0.8))
          assert.isAtMost(d, Math.min(1000, Math.round(nominal[n]! * 1.2)))
          assert.isTrue(Number.isInteger(d))
        })
        assert.strictEqual((yield* delaysOf(Resend.clientSchedule({ attempts: 1 }), undefined, 10)).length, 0)
        assert.strictEqual((yield* delaysOf(Resend.deliverySchedule({ attempts: 3 }), undefined, 10)).length, 2)
      }))

    it.effect("policies stop at the first final outcome", () =>
      Effect.gen(function*() {
        const throttled = yield* delaysOf(Resend.clientPolicy(), CommandStatus.ESME_RTHROTTLED, 100)
        assert.strictEqual(throttled.length, 4)
        assert.strictEqual((yield* delaysOf(Resend.clientPolicy(), CommandStatus.ESME_RINVDSTADR, 100)).length, 0)
        assert.strictEqual((yield* delaysOf(Resend.deliveryPolicy(), "timeout", 300)).length, 300)
        assert.strictEqual((yield* delaysOf(Resend.deliveryPolicy(), CommandStatus.ESME_RX_P_APPN, 10)).length, 0)
      }))
  })

  describe("driven by TestClock through Effect.retry", () => {
    const failingWith = (attempts: Ref.Ref<number>, outcome: Resend.Outcome) =>
      Ref.update(attempts, (n) => n + 1).pipe(Effect.zipRight(Effect.fail(outcome)))

    it.effect("a throttled client request is tried 5 times, then fails with the last outcome", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        const fiber = yield* Effect.fork(
          Effect.retry(failingWith(attempts, CommandStatus.ESME_RTHROTTLED), Resend.clientPolicy())
        )
        yield* TestClock.adjust("799 millis")
        assert.strictEqual(yield* Ref.get(attempts), 1)
        yield* TestClock.adjust("401 millis")
        assert.strictEqual(yield* Ref.get(attempts), 2)
        // 1 + 2 + 4 + 8 s nominal, at most 18 s with jitter.
        yield* TestClock.adjust("17 seconds")
        assert.strictEqual(yield* Ref.get(attempts), 5)
        const exit = yield* Fiber.await(fiber)
        assert.deepStrictEqual(exit, Exit.fail(CommandStatus.ESME_RTHROTTLED))
      }))

    it.effect("a final status is not retried", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        const exit = yield* Effect.exit(
          Effect.retry(failingWith(attempts, CommandStatus.ESME_RINVSRCADR), Resend.clientPolicy())
        )
        assert.deepStrictEqual(exit, Exit.fail(CommandStatus.ESME_RINVSRCADR))
        assert.strictEqual(yield* Ref.get(attempts), 1)
      }))

    it.effect("a delivery is retried past any client bound until the ESME acknowledges it", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        const deliver = Ref.updateAndGet(attempts, (n) => n + 1).pipe(
          Effect.flatMap((n) => (n < 20 ? Effect.fail<Resend.Outcome>(n % 2 === 0 ? "timeout" : 0x64) : Effect.void))
        )
        const fiber = yield* Effect.fork(Effect.retry(deliver, Resend.deliveryPolicy()))
        // 19 delays, none over 60 s.
        yield* TestClock.adjust(Duration.minutes(19))
        assert.strictEqual(yield* Ref.get(attempts), 20)
        assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.void)
      }))
  })
})
