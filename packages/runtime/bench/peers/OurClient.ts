/**
 * Benchmark peer: our SmppClient doing the runs it is given (each on a fresh session, window
 * as the run says), submit_sm through `submitSm` (Effect API) or `unsafeRequest` (callback
 * API), as the run says; reports each run's result.
 */
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as SmppClient from "../../src/SmppClient.js"
import { type ClientConfig, configOf, paced, Recorder, report, resultOf, type Run } from "./Protocol.js"

const config = configOf<ClientConfig>()
const shortMessage = new TextEncoder().encode("Hello from the client/server benchmark")

/** A submit_sm as an application builds one per message. */
const submitSm = (): Pdu.SubmitSm =>
  Pdu.make("submit_sm", {
    sourceAddrTon: 5,
    sourceAddr: "Bench",
    destAddrTon: 1,
    destAddrNpi: 1,
    destinationAddr: "4915112345678",
    shortMessage
  })

/** `window` callers, each looping until `until`: answers how many failed. */
const closedLoop = (client: SmppClient.SmppClient, window: number, until: number, recorder: Recorder | undefined) =>
  Effect.gen(function*() {
    let errors = 0
    const caller = Effect.gen(function*() {
      while (true) {
        const t0 = performance.now()
        if (t0 >= until) return
        const result = yield* Effect.either(client.submitSm(submitSm()))
        if (Either.isLeft(result) || result.right.commandStatus !== 0) errors++
        else recorder?.add(performance.now() - t0)
      }
    })
    yield* Effect.forEach(Array.from({ length: window }), () => caller, { concurrency: "unbounded", discard: true })
    return errors
  })

/**
 * `window` callers take the pacer's tickets: a ticket waits for a free caller, which sends its
 * submit_sm (latency counted from the ticket's release). Answers how many failed.
 */
const openLoop = (
  client: SmppClient.SmppClient,
  run: Extract<Run, { kind: "rate" }>,
  durationMs: number,
  recorder: Recorder | undefined
) =>
  Effect.gen(function*() {
    const backlog: Array<number> = []
    const idle: Array<(t0: number) => void> = []
    let finished = false
    let errors = 0
    const release = (t0: number): void => {
      const caller = idle.pop()
      if (caller !== undefined) caller(t0)
      else backlog.push(t0)
    }
    /** The next ticket's release time, or -1 once the run is over and none is left. */
    const ticket = Effect.async<number>((resume) => {
      if (backlog.length > 0) return resume(Effect.succeed(backlog.shift()!))
      if (finished) return resume(Effect.succeed(-1))
      idle.push((t0) => resume(Effect.succeed(t0)))
    })
    const caller = Effect.gen(function*() {
      while (true) {
        const t0 = yield* ticket
        if (t0 < 0) return
        const result = yield* Effect.either(client.submitSm(submitSm()))
        if (Either.isLeft(result) || result.right.commandStatus !== 0) errors++
        else recorder?.add(performance.now() - t0)
      }
    })
    const callers = yield* Effect.fork(
      Effect.forEach(Array.from({ length: run.window }), () => caller, { concurrency: "unbounded", discard: true })
    )
    const start = performance.now()
    yield* Effect.promise(() => paced(run.rate, durationMs, release))
    finished = true
    for (const resume of idle.splice(0, idle.length)) resume(-1)
    yield* Fiber.join(callers)
    return { errors, elapsedMs: performance.now() - start }
  })

/** `closedLoop` with callbacks: `window` chains, each sending its next submit_sm from the last one's answer. */
const closedLoopCallback = (client: SmppClient.SmppClient, window: number, until: number, recorder: Recorder | undefined) =>
  new Promise<number>((resolve) => {
    let running = window
    let errors = 0
    const next = (): void => {
      const t0 = performance.now()
      if (t0 >= until) {
        if (--running === 0) resolve(errors)
        return
      }
      client.unsafeRequest(submitSm(), (exit) => {
        if (Exit.isSuccess(exit) && exit.value.commandStatus === 0) {
          recorder?.add(performance.now() - t0)
          next()
        } else {
          errors++
          // A failure may come back at once: no recursion on it.
          setImmediate(next)
        }
      })
    }
    for (let i = 0; i < window; i++) next()
  })

/** `openLoop` with callbacks: a ticket is sent at once while fewer than `window` are in flight, else queued. */
const openLoopCallback = (
  client: SmppClient.SmppClient,
  run: Extract<Run, { kind: "rate" }>,
  durationMs: number,
  recorder: Recorder | undefined
) =>
  new Promise<{ errors: number; elapsedMs: number }>((resolve) => {
    const backlog: Array<number> = []
    let inFlight = 0
    let errors = 0
    let paced_ = false
    const start = performance.now()
    const send = (t0: number): void => {
      inFlight++
      client.unsafeRequest(submitSm(), (exit) => {
        inFlight--
        if (Exit.isSuccess(exit) && exit.value.commandStatus === 0) recorder?.add(performance.now() - t0)
        else errors++
        if (backlog.length > 0) send(backlog.shift()!)
        else if (paced_ && inFlight === 0) resolve({ errors, elapsedMs: performance.now() - start })
      })
    }
    void paced(run.rate, durationMs, (t0) => (inFlight < run.window ? send(t0) : void backlog.push(t0))).then(() => {
      paced_ = true
      if (inFlight === 0) resolve({ errors, elapsedMs: performance.now() - start })
    })
  })

const perform = (run: Run) =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* SmppClient.make({
      host: "127.0.0.1",
      port: config.port,
      systemId: "bench",
      password: "secret",
      session: { windowSize: run.window }
    })
    yield* client.awaitBound
    const recorder = new Recorder()
    if (run.api === "callback") {
      if (run.kind === "throughput") {
        yield* Effect.promise(() => closedLoopCallback(client, run.window, performance.now() + run.warmupMs, undefined))
        const start = performance.now()
        const errors = yield* Effect.promise(() =>
          closedLoopCallback(client, run.window, start + run.durationMs, recorder)
        )
        return resultOf(run, recorder, errors, performance.now() - start)
      }
      yield* Effect.promise(() => openLoopCallback(client, run, run.warmupMs, undefined))
      const { elapsedMs, errors } = yield* Effect.promise(() => openLoopCallback(client, run, run.durationMs, recorder))
      return resultOf(run, recorder, errors, elapsedMs)
    }
    if (run.kind === "throughput") {
      yield* closedLoop(client, run.window, performance.now() + run.warmupMs, undefined)
      const start = performance.now()
      const errors = yield* closedLoop(client, run.window, start + run.durationMs, recorder)
      return resultOf(run, recorder, errors, performance.now() - start)
    }
    yield* openLoop(client, run, run.warmupMs, undefined)
    const { elapsedMs, errors } = yield* openLoop(client, run, run.durationMs, recorder)
    return resultOf(run, recorder, errors, elapsedMs)
  }))

const program = Effect.gen(function*() {
  for (const run of config.runs) {
    const result = yield* perform(run)
    report({ type: "result", result })
    // Let the server see the unbind before the next session.
    yield* Effect.sleep(Duration.millis(100))
  }
}).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    report({ type: "error", message: String(error) })
    process.exit(1)
  }
)
