/**
 * `smpp bench` in process against our SmppServer on 127.0.0.1 (port 0). Speed is never
 * asserted: only that the report adds up. Bounded; closes what it opens.
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { formatReport, percentile, percentiles } from "../../src/cli/BenchCommand.js"
import { smpp, smsc, target } from "./fixtures.js"

/** The value of a `name   value` line of the report. */
const field = (report: string, name: string): string => {
  const line = report.split("\n").find((l) => l.startsWith(name + " "))
  assert.isDefined(line, `no "${name}" line in:\n${report}`)
  return line!.slice(name.length).trim()
}

const LATENCY = /^p50 ([\d.]+) ms {2}p90 ([\d.]+) ms {2}p99 ([\d.]+) ms {2}p99\.9 ([\d.]+) ms {2}max ([\d.]+) ms$/

const latencies = (report: string, name: string): ReadonlyArray<number> => {
  const match = LATENCY.exec(field(report, name))
  assert.isNotNull(match, field(report, name))
  return match!.slice(1).map(Number)
}

const ascending = (values: ReadonlyArray<number>) => values.every((v, i) => i === 0 || v >= values[i - 1]!)

describe("smpp bench", () => {
  it.live("2,000 messages over 2 sessions: throughput and percentiles, a progress line", () =>
    Effect.gen(function*() {
      const { port, server, submitted } = yield* smsc()
      const events = yield* server.subscribe
      const { exit, progress, stderr, stdout } = yield* smpp([
        "bench", ...target(port), "--messages", "2000", "--window", "20", "--sessions", "2"
      ])
      assert.isTrue(Exit.isSuccess(exit), stderr)
      assert.strictEqual(submitted.length, 2000)
      assert.strictEqual(field(stdout, "bench:"), "2000 messages over 2 sessions, window 20, rate unlimited")
      assert.strictEqual(field(stdout, "sent"), "2000")
      assert.strictEqual(field(stdout, "accepted"), "2000")
      assert.strictEqual(field(stdout, "errors"), "0")
      const throughput = /^(\d+) msgs\/s/.exec(field(stdout, "throughput"))
      assert.isNotNull(throughput)
      assert.isAbove(Number(throughput![1]), 0)
      const lat = latencies(stdout, "latency")
      assert.isTrue(ascending(lat), String(lat))
      assert.isAbove(lat[4]!, 0)
      assert.notInclude(stdout, "receipts")
      // the progress line: rewritten with \r, ended with the final count
      assert.isTrue(progress.startsWith("\r"))
      assert.isTrue(progress.endsWith("\n"))
      const last = progress.trimEnd().split("\r").pop()!
      assert.match(last, /^sent 2000\/2000 {2}acked 2000 {2}errors 0 {2}rate \d+ msgs\/s/)
      // two transmitter sessions
      const kinds: Array<string> = []
      while (kinds.length < 2) {
        const event = yield* events.take
        if (event._tag === "Bound") kinds.push(event.kind)
      }
      assert.deepStrictEqual(kinds, ["transmitter", "transmitter"])
    }).pipe(Effect.scoped, Effect.timeout("30 seconds")))

  it.live("--dlr: transceivers, every receipt counted, end-to-end throughput and latency", () =>
    Effect.gen(function*() {
      const { port, submitted } = yield* smsc()
      const { exit, progress, stderr, stdout } = yield* smpp([
        "bench", ...target(port), "--messages", "500", "--window", "10", "--dlr"
      ])
      assert.isTrue(Exit.isSuccess(exit), stderr)
      assert.isTrue(submitted.every((pdu) => pdu.registeredDelivery === 1))
      assert.match(field(stdout, "receipts"), /^500 of 500 in [\d.]+ s$/)
      assert.match(field(stdout, "end to end"), /^\d+ msgs\/s \(submit_sm → receipt\)$/)
      const e2e = latencies(stdout, "e2e latency")
      assert.isTrue(ascending(e2e))
      assert.include(progress, "receipts 500")
    }).pipe(Effect.scoped, Effect.timeout("30 seconds")))

  it.live("errors are counted by status", () =>
    Effect.gen(function*() {
      const { port } = yield* smsc({
        status: (n) => n % 10 === 0 ? CommandStatus.ESME_RTHROTTLED : n % 25 === 1 ? CommandStatus.ESME_RINVDSTADR : 0
      })
      const { exit, stderr, stdout } = yield* smpp(["bench", ...target(port), "--messages", "100", "--window", "5"])
      assert.isTrue(Exit.isSuccess(exit), stderr)
      assert.strictEqual(field(stdout, "accepted"), "86")
      assert.strictEqual(field(stdout, "errors"), "14")
      assert.include(stdout, "\n  ESME_RTHROTTLED (0x00000058)  10\n  ESME_RINVDSTADR (0x0000000b)  4\n")
    }).pipe(Effect.scoped, Effect.timeout("30 seconds")))

  it.live("--rate spreads the messages over time", () =>
    Effect.gen(function*() {
      const { port } = yield* smsc()
      const { exit, stderr, stdout } = yield* smpp([
        "bench", ...target(port), "--messages", "20", "--window", "5", "--rate", "100"
      ])
      assert.isTrue(Exit.isSuccess(exit), stderr)
      // the 20th message may not leave before 190 ms
      const elapsed = Number(/^([\d.]+) s$/.exec(field(stdout, "elapsed"))![1])
      assert.isAtLeast(elapsed, 0.18)
      assert.include(stdout, "rate 100 msgs/s")
    }).pipe(Effect.scoped, Effect.timeout("30 seconds")))

  it.live("a refused bind fails; bad values are refused", () =>
    Effect.gen(function*() {
      const { port, submitted } = yield* smsc()
      const refused = yield* smpp(["bench", ...target(port, "wrong"), "--messages", "10"])
      assert.isTrue(Exit.isFailure(refused.exit))
      assert.include(refused.stderr, "smpp bench:")
      assert.include(refused.stderr, "ESME_RINVPASWD")
      assert.strictEqual(submitted.length, 0)
      for (
        const [flags, error] of [
          [["--messages", "0"], "--messages must be an integer from 1"],
          [["--window", "0"], "--window must be an integer from 1"],
          [["--sessions", "-1"], "--sessions must be an integer from 1"],
          [["--rate", "-5"], "--rate must be an integer from 0"],
          [["--text", "x".repeat(200)], "--text must fit in one message"]
        ] as const
      ) {
        const { exit, stderr } = yield* smpp(["bench", ...target(port), ...flags])
        assert.isTrue(Exit.isFailure(exit), flags.join(" "))
        assert.include(stderr, error, flags.join(" "))
      }
      assert.strictEqual(submitted.length, 0)
    }).pipe(Effect.scoped, Effect.timeout("30 seconds")))

  it("percentiles by nearest rank", () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => 1000 - i) // 1000 … 1
    const p = percentiles(values, 1000)!
    assert.deepStrictEqual(p, { p50: 500, p90: 900, p99: 990, p999: 999, max: 1000 })
    assert.strictEqual(percentile([7], 0.999), 7)
    assert.strictEqual(percentile([], 0.5), 0)
    assert.isUndefined(percentiles(new Float64Array(4), 0))
  })

  it("the report lists what was measured", () => {
    const report = formatReport({
      messages: 10,
      sessions: 1,
      window: 2,
      rate: 0,
      sent: 10,
      accepted: 9,
      errors: [["ESME_RTHROTTLED (0x00000058)", 1]],
      elapsed: 500,
      throughput: 18,
      latency: { p50: 1, p90: 2, p99: 3, p999: 4, max: 5 },
      receipts: { received: 9, elapsed: 1000, throughput: 9, latency: undefined },
      interrupted: true
    })
    assert.strictEqual(
      report,
      [
        "bench: 10 messages over 1 session, window 2, rate unlimited (interrupted)",
        "sent         10",
        "accepted     9",
        "errors       1",
        "  ESME_RTHROTTLED (0x00000058)  1",
        "elapsed      0.500 s",
        "throughput   18 msgs/s (accepted, submit_sm → submit_sm_resp)",
        "latency      p50 1.00 ms  p90 2.00 ms  p99 3.00 ms  p99.9 4.00 ms  max 5.00 ms",
        "receipts     9 of 9 in 1.000 s",
        "end to end   9 msgs/s (submit_sm → receipt)",
        "e2e latency  -"
      ].join("\n")
    )
  })
})
