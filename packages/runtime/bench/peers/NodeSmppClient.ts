/**
 * Benchmark peer: node-smpp's client doing the runs it is given (each on a fresh session),
 * submit_sm through `session.submit_sm(options, callback)` as its README shows; node-smpp has
 * no window of its own, so `window` callers each keep one submit_sm in flight. Reports each
 * run's result.
 */
import smpp, { type PDU, type Session } from "smpp"
import { type ClientConfig, configOf, paced, Recorder, report, resultOf, type Run } from "./Protocol.js"

const config = configOf<ClientConfig>()
const shortMessage = Buffer.from("Hello from the client/server benchmark", "latin1")

const submitOptions = (): Record<string, unknown> => ({
  source_addr_ton: 5,
  source_addr: "Bench",
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: "4915112345678",
  data_coding: 0,
  short_message: shortMessage
})

const connect = (): Promise<Session> =>
  new Promise((resolve, reject) => {
    const session = smpp.connect({ host: "127.0.0.1", port: config.port })
    session.on("error", reject)
    session.on("enquire_link", (pdu: PDU) => session.send(pdu.response()))
    session.once("connect", () => {
      session.bind_transceiver({ system_id: "bench", password: "secret" }, (pdu) => {
        if (pdu.command_status === 0) resolve(session)
        else reject(new Error(`bind refused: ${pdu.command_status}`))
      })
    })
  })

const close = (session: Session): Promise<void> =>
  new Promise((resolve) => {
    session.unbind({}, () => session.close(() => resolve()))
  })

/** `window` callers, each looping until `until`. */
const closedLoop = (session: Session, window: number, until: number, recorder: Recorder | undefined) =>
  new Promise<number>((resolve) => {
    let errors = 0
    let running = window
    const caller = (): void => {
      const t0 = performance.now()
      if (t0 >= until) {
        if (--running === 0) resolve(errors)
        return
      }
      session.submit_sm(submitOptions(), (pdu) => {
        if (pdu.command_status !== 0) errors++
        else recorder?.add(performance.now() - t0)
        caller()
      })
    }
    for (let i = 0; i < window; i++) caller()
  })

/** At most `window` submit_sm in flight; a ticket waits for a free slot (latency counted from its release). */
const openLoop = async (
  session: Session,
  run: Extract<Run, { kind: "rate" }>,
  durationMs: number,
  recorder: Recorder | undefined
) => {
  const backlog: Array<number> = []
  let inFlight = 0
  let errors = 0
  let finished = false
  let allAnswered: () => void = () => {}
  const answered = new Promise<void>((resolve) => {
    allAnswered = resolve
  })
  const send = (t0: number): void => {
    inFlight++
    session.submit_sm(submitOptions(), (pdu) => {
      inFlight--
      if (pdu.command_status !== 0) errors++
      else recorder?.add(performance.now() - t0)
      const next = backlog.shift()
      if (next !== undefined) send(next)
      else if (finished && inFlight === 0) allAnswered()
    })
  }
  const start = performance.now()
  await paced(run.rate, durationMs, (t0) => {
    if (inFlight < run.window) send(t0)
    else backlog.push(t0)
  })
  finished = true
  if (inFlight > 0 || backlog.length > 0) await answered
  return { errors, elapsedMs: performance.now() - start }
}

const perform = async (run: Run) => {
  const session = await connect()
  const recorder = new Recorder()
  let result
  if (run.kind === "throughput") {
    await closedLoop(session, run.window, performance.now() + run.warmupMs, undefined)
    const start = performance.now()
    const errors = await closedLoop(session, run.window, start + run.durationMs, recorder)
    result = resultOf(run, recorder, errors, performance.now() - start)
  } else {
    await openLoop(session, run, run.warmupMs, undefined)
    const { elapsedMs, errors } = await openLoop(session, run, run.durationMs, recorder)
    result = resultOf(run, recorder, errors, elapsedMs)
  }
  await close(session)
  return result
}

const main = async () => {
  for (const run of config.runs) {
    report({ type: "result", result: await perform(run) })
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    report({ type: "error", message: String(error) })
    process.exit(1)
  }
)
