/**
 * `smpp bench`: a load generator. Binds `--sessions` sessions (transmitters, or transceivers
 * with `--dlr`), sends `--messages` submit_sm spread over them with `--window` requests in
 * flight per session, at most `--rate` per second in all (0: as fast as they go), and shows a
 * live progress line on standard error. The final report (standard output) gives the
 * throughput, the latency percentiles of submit_sm → submit_sm_resp, the errors by status
 * and, with `--dlr`, the receipts received and the end-to-end throughput (submit → receipt).
 *
 * Every time is read from Effect's `Clock`. Each submit is sent once (no retries), so that a
 * throttling SMSC shows up as errors rather than as latency. With `--dlr`, receipts are
 * matched to the submit_sm_resp ids exactly.
 *
 * @since 0.1.0
 */
import type * as SmppClient from "@effect-smpp/runtime/SmppClient"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Segmentation from "@effect-smpp/schema/Segmentation"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Connection from "./Connection.js"
import { ClientCommandError } from "./Connection.js"
import { statusLabel } from "./PduCommand.js"

/**
 * Where the live progress line goes: standard error by default (a test captures it).
 *
 * @since 0.1.0
 * @category services
 */
export class ProgressOutput extends Context.Reference<ProgressOutput>()("@effect-smpp/gateway/cli/ProgressOutput", {
  defaultValue: (): { readonly write: (chunk: string) => void } => ({
    write: (chunk) => {
      process.stderr.write(chunk)
    }
  })
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export interface BenchOptions extends Connection.Target {
  readonly messages: number
  /** Requests in flight per session. */
  readonly window: number
  readonly sessions: number
  /** Submits per second in all; 0 for no limit. */
  readonly rate: number
  readonly dlr: boolean
  readonly from: string
  readonly to: string
  readonly text: string
  /** With `dlr`: seconds to wait for the receipts once every submit is answered. */
  readonly timeout: number
}

/**
 * Latency percentiles, in milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Percentiles {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

/**
 * What a run measured.
 *
 * @since 0.1.0
 * @category models
 */
export interface BenchReport {
  readonly messages: number
  readonly sessions: number
  readonly window: number
  readonly rate: number
  readonly sent: number
  /** Answered ESME_ROK. */
  readonly accepted: number
  /** Answered with another status, or not answered. */
  readonly errors: ReadonlyArray<readonly [label: string, count: number]>
  /** From the first submit to the last response, in milliseconds. */
  readonly elapsed: number
  /** Accepted per second. */
  readonly throughput: number
  /** submit_sm → submit_sm_resp (any status). */
  readonly latency: Percentiles | undefined
  /** With `--dlr`. */
  readonly receipts:
    | {
      readonly received: number
      /** From the first submit to the last receipt, in milliseconds. */
      readonly elapsed: number
      /** Receipts per second over that time. */
      readonly throughput: number
      /** submit_sm → its receipt. */
      readonly latency: Percentiles | undefined
    }
    | undefined
  /** Whether the run was cut short (interrupted). */
  readonly interrupted: boolean
}

/**
 * The `q` quantile (0 < q ≤ 1) of sorted values, nearest rank; 0 for none.
 *
 * @since 0.1.0
 * @category utils
 */
export const percentile = (sorted: ArrayLike<number>, q: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!

/**
 * p50 / p90 / p99 / p99.9 / max of the first `count` values (sorted in place), or
 * `undefined` for none.
 *
 * @since 0.1.0
 * @category utils
 */
export const percentiles = (values: Float64Array, count: number): Percentiles | undefined => {
  if (count === 0) return undefined
  const sorted = values.subarray(0, count).sort()
  return {
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted[count - 1]!
  }
}

const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0))

const latencyLine = (p: Percentiles | undefined): string =>
  p === undefined
    ? "-"
    : `p50 ${ms(p.p50)} ms  p90 ${ms(p.p90)} ms  p99 ${ms(p.p99)} ms  p99.9 ${ms(p.p999)} ms  max ${ms(p.max)} ms`

const perSecond = (count: number, elapsedMillis: number): number =>
  elapsedMillis <= 0 ? 0 : Math.round((count * 1000) / elapsedMillis)

/**
 * The report as printed.
 *
 * @since 0.1.0
 * @category utils
 */
export const formatReport = (report: BenchReport): string => {
  const rate = report.rate === 0 ? "unlimited" : `${report.rate} msgs/s`
  const errorCount = report.errors.reduce((sum, [, n]) => sum + n, 0)
  const lines = [
    `bench: ${report.messages} messages over ${report.sessions} session${report.sessions === 1 ? "" : "s"}, window ${report.window}, rate ${rate}${
      report.interrupted ? " (interrupted)" : ""
    }`,
    `sent         ${report.sent}`,
    `accepted     ${report.accepted}`,
    `errors       ${errorCount}`,
    ...report.errors.map(([label, n]) => `  ${label}  ${n}`),
    `elapsed      ${(report.elapsed / 1000).toFixed(3)} s`,
    `throughput   ${report.throughput} msgs/s (accepted, submit_sm → submit_sm_resp)`,
    `latency      ${latencyLine(report.latency)}`
  ]
  if (report.receipts !== undefined) {
    const r = report.receipts
    lines.push(
      `receipts     ${r.received} of ${report.accepted} in ${(r.elapsed / 1000).toFixed(3)} s`,
      `end to end   ${r.throughput} msgs/s (submit_sm → receipt)`,
      `e2e latency  ${latencyLine(r.latency)}`
    )
  }
  return lines.join("\n")
}

/**
 * Runs `smpp bench` with parsed options: the report on standard output, the progress line on
 * `ProgressOutput`. Fails (after printing why) when a session cannot bind.
 *
 * @since 0.1.0
 * @category running
 */
export const bench = (options: BenchOptions): Effect.Effect<BenchReport, ClientCommandError> =>
  Effect.gen(function*() {
    const clock = yield* Effect.clock
    const output = yield* ProgressOutput
    const now = (): number => Number(clock.unsafeCurrentTimeNanos()) / 1e6
    const total = options.messages

    // --- what is measured (owned by this run's fibers, all on one thread)
    let next = 0
    let sent = 0
    let accepted = 0
    let answered = 0
    const errors = new Map<string, number>()
    const latencies = new Float64Array(total)
    let start = 0
    let lastResponse = 0
    const sentAt = new Map<string, number>()
    const earlyReceipts = new Map<string, number>()
    const e2e = new Float64Array(total)
    let receipts = 0
    let lastReceipt = 0
    let submitting = true
    const allReceipts = yield* Deferred.make<void>()
    const checkReceipts = () => {
      if (!submitting && receipts >= accepted) Deferred.unsafeDone(allReceipts, Effect.void)
    }
    const matched = (sentTime: number, receivedTime: number) => {
      if (receipts >= total) return
      e2e[receipts++] = receivedTime - sentTime
      if (receivedTime > lastReceipt) lastReceipt = receivedTime
    }
    const onDelivery = (delivery: SmppClient.Delivery) =>
      Effect.sync(() => {
        if (delivery._tag !== "Receipt") return
        const t = now()
        const sentTime = sentAt.get(delivery.messageId)
        if (sentTime === undefined) {
          // Before its submit_sm_resp was handled here (or not one of ours).
          earlyReceipts.set(delivery.messageId, t)
          return
        }
        sentAt.delete(delivery.messageId)
        matched(sentTime, t)
        checkReceipts()
      })

    let errorCount = 0
    const fail = (label: string) => {
      errorCount++
      errors.set(label, (errors.get(label) ?? 0) + 1)
    }

    const report = (interrupted: boolean): BenchReport => {
      const elapsed = Math.max(0, lastResponse - start)
      return {
        messages: total,
        sessions: options.sessions,
        window: options.window,
        rate: options.rate,
        sent,
        accepted,
        errors: [...errors.entries()].sort((a, b) => b[1] - a[1]),
        elapsed,
        throughput: perSecond(accepted, elapsed),
        latency: percentiles(latencies, answered),
        receipts: options.dlr
          ? {
            received: receipts,
            elapsed: Math.max(0, lastReceipt - start),
            throughput: perSecond(receipts, lastReceipt - start),
            latency: percentiles(e2e, receipts)
          }
          : undefined,
        interrupted
      }
    }

    // --- the progress line
    let lastWidth = 0
    let lastTick = 0
    let lastAccepted = 0
    const progress = (final: boolean) =>
      Effect.sync(() => {
        const t = now()
        const rate = t > lastTick ? ((accepted - lastAccepted) * 1000) / (t - lastTick) : 0
        lastTick = t
        lastAccepted = accepted
        const shown = final ? perSecond(accepted, lastResponse - start) : Math.round(rate)
        const dlr = options.dlr ? `  receipts ${receipts}` : ""
        const line = `sent ${sent}/${total}  acked ${accepted}  errors ${errorCount}${dlr}  rate ${shown} msgs/s`
        output.write("\r" + line.padEnd(lastWidth) + (final ? "\n" : ""))
        lastWidth = line.length
      })

    // --- the sessions
    const pdu = yield* buildPdu(options)
    const clients = yield* Effect.forEach(
      Array.from({ length: options.sessions }, (_, i) => i),
      (i) =>
        Connection.bind(options, options.dlr ? "transceiver" : "transmitter", {
          name: `smpp-bench-${i + 1}`,
          session: { windowSize: options.window, responseTimeout: "30 seconds", drainTimeout: "5 seconds" },
          ...(options.dlr ? { onDelivery } : {})
        }),
      { concurrency: "unbounded" }
    )

    const worker = (client: SmppClient.SmppClient) =>
      Effect.gen(function*() {
        while (next < total) {
          const i = next++
          if (options.rate > 0) {
            const wait = start + (i * 1000) / options.rate - now()
            if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
          }
          sent++
          const t0 = now()
          const result = yield* Effect.either(client.submitSm(pdu))
          const t1 = now()
          lastResponse = t1
          if (Either.isRight(result)) {
            latencies[answered++] = t1 - t0
            const response = result.right
            if (response.commandStatus === CommandStatus.ESME_ROK) {
              accepted++
              if (options.dlr) {
                const id = response.messageId ?? ""
                const early = earlyReceipts.get(id)
                if (early === undefined) {
                  sentAt.set(id, t0)
                } else {
                  earlyReceipts.delete(id)
                  matched(t0, early)
                }
              }
            } else {
              fail(statusLabel(response.commandStatus))
            }
          } else {
            const error = result.left
            fail(error._tag === "GenericNack" ? `generic_nack ${statusLabel(error.status)}` : error._tag)
          }
        }
      })

    start = now()
    lastTick = start
    lastResponse = start
    const ticker = yield* Effect.forkScoped(
      Effect.forever(Effect.zipRight(Effect.sleep("250 millis"), progress(false)))
    )
    const run = Effect.gen(function*() {
      yield* Effect.forEach(
        clients.flatMap((client) => Array.from({ length: options.window }, () => client)),
        worker,
        { concurrency: "unbounded", discard: true }
      )
      submitting = false
      if (options.dlr) {
        checkReceipts()
        yield* Deferred.await(allReceipts).pipe(Effect.timeout(Duration.seconds(options.timeout)), Effect.ignore)
      }
    })
    // Ctrl-C: the report of what was done so far.
    yield* Effect.onInterrupt(run, () => Effect.zipRight(progress(true), Console.log(formatReport(report(true)))))
    yield* Fiber.interrupt(ticker)
    yield* progress(true)
    const result = report(false)
    yield* Console.log(formatReport(result))
    return result
  }).pipe(
    Effect.scoped,
    Connection.withLogs(options.verbose),
    Connection.reportFailure("bench")
  )

/** The one submit_sm every message sends (the session gives each its sequence_number). */
const buildPdu = (options: BenchOptions): Effect.Effect<Pdu.SubmitSm, ClientCommandError> => {
  const parts = Segmentation.split(options.text, { method: "udh8" })
  if (Either.isLeft(parts)) {
    return Effect.fail(new ClientCommandError({ reason: "Input", detail: parts.left.message }))
  }
  if (parts.right.length !== 1) {
    return Effect.fail(new ClientCommandError({ reason: "Input", detail: "--text must fit in one message" }))
  }
  const part = parts.right[0]!
  const numeric = (addr: string) => /^\+?[0-9]+$/.test(addr)
  const address = (addr: string) =>
    numeric(addr) ? { addr: addr.replace(/^\+/, ""), ton: 1, npi: 1 } : { addr, ton: 5, npi: 0 }
  const source = address(options.from)
  const destination = address(options.to)
  return Effect.succeed(Pdu.make("submit_sm", {
    sourceAddrTon: source.ton,
    sourceAddrNpi: source.npi,
    sourceAddr: source.addr,
    destAddrTon: destination.ton,
    destAddrNpi: destination.npi,
    destinationAddr: destination.addr,
    registeredDelivery: options.dlr ? 1 : 0,
    dataCoding: part.dataCoding,
    shortMessage: part.shortMessage
  }))
}

/**
 * `smpp bench`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "bench",
  {
    target: Connection.target,
    messages: Connection.integer("messages", "how many submit_sm to send", 10_000, 1, 100_000_000),
    window: Connection.integer("window", "requests in flight per session", 10, 1, 10_000),
    sessions: Connection.integer("sessions", "sessions to bind and spread the messages over", 1, 1, 1_000),
    rate: Connection.integer("rate", "submits per second in all; 0 for no limit", 0, 0, 10_000_000),
    dlr: Options.boolean("dlr").pipe(
      Options.withDescription("ask for receipts (bind as transceivers) and measure submit → receipt")
    ),
    from: Connection.address("from", "source_addr of the messages").pipe(Options.withDefault("bench")),
    to: Connection.address("to", "destination_addr of the messages").pipe(Options.withDefault("4915550000")),
    text: Options.text("text").pipe(
      Options.withDescription("the text of every message (one part)"),
      Options.withDefault("effect-smpp bench")
    ),
    timeout: Connection.timeout("with --dlr: seconds to wait for the receipts after the last response", 60)
  },
  ({ target, ...rest }) => Effect.asVoid(bench({ ...target, ...rest }))
).pipe(Command.withDescription("Load generator: submit_sm over several sessions, with throughput and latency report"))
