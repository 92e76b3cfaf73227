/**
 * Micro benchmark of the session loop: an ESME and an SMSC Session over a MemorySocket pair in
 * one process, `callers` concurrent callers doing submit_sm → submit_sm_resp. Prints cycles/s,
 * and the ratio to a bare loop run in the same process: the same callers resolved through
 * `Effect.async` callbacks kept in a Map by one fiber (what DESIGN.md measured at 450–630k/s),
 * with no codec, no socket and no session. Not a test: the numbers depend on the machine.
 *
 *   npx tsx packages/runtime/bench/SessionLoop.ts [callers=100] [cycles=300000]
 *
 * tsx's loader slows everything down (here by half); for the best numbers bundle it first:
 *
 *   npx esbuild packages/runtime/bench/SessionLoop.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/SessionLoop.mjs && node /tmp/SessionLoop.mjs
 */
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Queue from "effect/Queue"
import * as MemorySocket from "../src/MemorySocket.js"
import * as Session from "../src/Session.js"

const callers = Number(process.argv[2] ?? 100)
const cycles = Number(process.argv[3] ?? 300_000)

const submit = Pdu.SubmitSm.make({
  sourceAddr: "12345",
  destinationAddr: "4915112345678",
  shortMessage: new TextEncoder().encode("Hello from the session benchmark")
})
const submitResp = Pdu.SubmitSmResp.make({ messageId: "0123456789abcdef" })
const bindResp = Pdu.BindTransceiverResp.make({ systemId: "bench-smsc" })

const handler: Session.Handler = (request) => {
  switch (request._tag) {
    case "submit_sm":
      return Effect.succeed({ ...submitResp, sequenceNumber: request.sequenceNumber })
    case "bind_transceiver":
      return Effect.succeed({ ...bindResp, sequenceNumber: request.sequenceNumber })
    default:
      return Effect.succeed(0)
  }
}

/** Runs `cycle` `rounds` times, spread over the callers; answers cycles per second. */
const measure = <E>(rounds: number, cycle: Effect.Effect<unknown, E>) =>
  Effect.gen(function*() {
    const perCaller = Math.ceil(rounds / callers)
    const start = performance.now()
    yield* Effect.forEach(
      Array.from({ length: callers }, (_, i) => i),
      () =>
        Effect.gen(function*() {
          for (let i = 0; i < perCaller; i++) yield* cycle
        }),
      { concurrency: "unbounded", discard: true }
    )
    return (perCaller * callers) / ((performance.now() - start) / 1000)
  })

/** The peer: Effect.async callbacks in a Map, resolved in batches by one fiber. */
const bareLoop = (rounds: number) =>
  Effect.gen(function*() {
    const queue = yield* Queue.unbounded<number>()
    const pending = new Map<number, (effect: Effect.Effect<number>) => void>()
    let sequence = 0
    const resolver = yield* Effect.fork(Effect.forever(Effect.flatMap(
      Queue.takeBetween(queue, 1, 4096),
      (ids) =>
        Effect.sync(() => {
          for (const id of ids) {
            const resume = pending.get(id)!
            pending.delete(id)
            resume(Effect.succeed(id))
          }
        })
    )))
    const cycle = Effect.async<number>((resume) => {
      const id = ++sequence
      pending.set(id, resume)
      Queue.unsafeOffer(queue, id)
    })
    const rate = yield* measure(rounds, cycle)
    yield* Fiber.interrupt(resolver)
    return rate
  })

const sessionLoop = (rounds: number, windowSize: number) =>
  Effect.scoped(Effect.gen(function*() {
    const [a, b] = yield* MemorySocket.makePair()
    yield* Session.make(b, { role: "smsc", handler })
    const esme = yield* Session.make(a, { role: "esme", windowSize })
    yield* esme.request(Pdu.BindTransceiver.make({ systemId: "bench", password: "secret" }))
    const rate = yield* measure(rounds, esme.request(submit))
    const stats = yield* esme.stats
    return { rate, perWrite: stats.pdusOut / stats.writes }
  }))

const format = (n: number) => Math.round(n).toLocaleString("en")

const program = Effect.gen(function*() {
  console.log(`callers=${callers} cycles=${cycles} (after warm-up)`)
  for (let i = 0; i < 2; i++) {
    yield* bareLoop(Math.min(100_000, cycles))
    yield* sessionLoop(Math.min(100_000, cycles), 100)
  }
  const bare = yield* bareLoop(cycles)
  console.log(`bare loop (Effect.async + Map, no codec, no session): ${format(bare)} cycles/s`)
  for (const windowSize of [100, 10]) {
    const { perWrite, rate } = yield* sessionLoop(cycles, windowSize)
    console.log(
      `session loop, window ${windowSize}: ${format(rate)} submit_sm cycles/s` +
        ` = ${(rate / bare).toFixed(2)} × the bare loop; ${perWrite.toFixed(1)} PDUs per socket write`
    )
  }
}).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))

Effect.runPromise(program).catch((e) => {
  console.error(e)
  process.exit(1)
})
