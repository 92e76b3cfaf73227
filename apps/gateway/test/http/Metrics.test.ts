import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import * as Metrics from "../../src/http/Metrics.js"

describe("Metrics", () => {
  it("writes counters and gauges with HELP, TYPE and sorted labels, one block per name", () => {
    const text = Metrics.render([
      MetricPair.unsafeMake(
        MetricKey.tagged(MetricKey.tagged(MetricKey.counter("smpp_pdus_in", { description: "PDUs in" }), "z", "1"), "command", "submit_sm"),
        MetricState.counter(7)
      ),
      MetricPair.unsafeMake(MetricKey.tagged(MetricKey.counter("smpp_pdus_in"), "command", "bind_transceiver"), MetricState.counter(1)),
      MetricPair.unsafeMake(MetricKey.gauge("a.gauge-x"), MetricState.gauge(-2.5)),
      MetricPair.unsafeMake(MetricKey.counter("big", { bigint: true }), MetricState.counter(BigInt("9007199254740993")))
    ])
    assert.strictEqual(
      text,
      [
        "# TYPE a_gauge_x gauge",
        "a_gauge_x -2.5",
        "# TYPE big counter",
        "big 9007199254740993",
        "# HELP smpp_pdus_in PDUs in",
        "# TYPE smpp_pdus_in counter",
        "smpp_pdus_in{command=\"bind_transceiver\"} 1",
        "smpp_pdus_in{command=\"submit_sm\",z=\"1\"} 7",
        ""
      ].join("\n")
    )
  })

  it("escapes label values and help text", () => {
    const text = Metrics.render([
      MetricPair.unsafeMake(
        MetricKey.tagged(MetricKey.gauge("g", { description: "line\nback\\slash" }), "peer-addr", "a\"b\\c\nd"),
        MetricState.gauge(1)
      )
    ])
    assert.include(text, "# HELP g line\\nback\\\\slash\n")
    assert.include(text, "g{peer_addr=\"a\\\"b\\\\c\\nd\"} 1\n")
  })

  it("writes histograms as cumulative buckets ending with +Inf, _sum and _count", () => {
    const key = MetricKey.histogram("latency", MetricBoundaries.fromIterable([1, 5]))
    const text = Metrics.render([
      MetricPair.unsafeMake(
        MetricKey.tagged(key, "kind", "x"),
        MetricState.histogram({ buckets: [[1, 2], [5, 3], [Number.POSITIVE_INFINITY, 4]], count: 4, min: 0, max: 9, sum: 15 })
      ),
      // a state without the +Inf bucket gets one
      MetricPair.unsafeMake(
        MetricKey.tagged(key, "kind", "y"),
        MetricState.histogram({ buckets: [[1, 1]], count: 2, min: 0, max: 3, sum: 3.5 })
      )
    ])
    assert.strictEqual(
      text,
      [
        "# TYPE latency histogram",
        "latency_bucket{kind=\"x\",le=\"1\"} 2",
        "latency_bucket{kind=\"x\",le=\"5\"} 3",
        "latency_bucket{kind=\"x\",le=\"+Inf\"} 4",
        "latency_sum{kind=\"x\"} 15",
        "latency_count{kind=\"x\"} 4",
        "latency_bucket{kind=\"y\",le=\"1\"} 1",
        "latency_bucket{kind=\"y\",le=\"+Inf\"} 2",
        "latency_sum{kind=\"y\"} 3.5",
        "latency_count{kind=\"y\"} 2",
        ""
      ].join("\n")
    )
  })

  it("writes summaries with quantiles (NaN when empty) and frequencies as counters by key", () => {
    const text = Metrics.render([
      MetricPair.unsafeMake(
        MetricKey.summary({ name: "rtt", maxAge: "1 minute", maxSize: 10, error: 0.01, quantiles: [0.5, 0.99] }),
        MetricState.summary({
          error: 0.01,
          quantiles: [[0.5, Option.some(3)], [0.99, Option.none()]],
          count: 2,
          min: 1,
          max: 5,
          sum: 6
        })
      ),
      MetricPair.unsafeMake(MetricKey.frequency("status"), MetricState.frequency(new Map([["ok", 3], ["err", 1]])))
    ])
    assert.strictEqual(
      text,
      [
        "# TYPE rtt summary",
        "rtt{quantile=\"0.5\"} 3",
        "rtt{quantile=\"0.99\"} NaN",
        "rtt_sum 6",
        "rtt_count 2",
        "# TYPE status counter",
        "status{key=\"err\"} 1",
        "status{key=\"ok\"} 3",
        ""
      ].join("\n")
    )
  })

  it("keeps the first kind of a name seen with two kinds", () => {
    const text = Metrics.render([
      MetricPair.unsafeMake(MetricKey.counter("dup"), MetricState.counter(1)),
      MetricPair.unsafeMake(MetricKey.gauge("dup"), MetricState.gauge(2))
    ])
    assert.strictEqual(text, "# TYPE dup counter\ndup 1\n")
  })

  it("sanitizes names and formats special values", () => {
    assert.strictEqual(Metrics.sanitizeName("9lives.x-y:z"), "_9lives_x_y:z")
    assert.strictEqual(Metrics.sanitizeLabel("a:b"), "a_b")
    assert.strictEqual(Metrics.formatValue(Number.POSITIVE_INFINITY), "+Inf")
    assert.strictEqual(Metrics.formatValue(Number.NEGATIVE_INFINITY), "-Inf")
    assert.strictEqual(Metrics.formatValue(Number.NaN), "NaN")
    assert.strictEqual(Metrics.formatValue(0.25), "0.25")
  })

  it.effect("exposition renders the registry: a metric updated shows up with its value", () =>
    Effect.gen(function*() {
      const counter = Metric.counter("metrics_test_counter", { description: "a test counter" })
      yield* Metric.incrementBy(Metric.tagged(counter, "case", "exposition"), 3)
      yield* Metrics.recordGatewayGauges({ bindKinds: ["receiver", "receiver"], queued: 4, uptimeSeconds: 12 })
      const text = yield* Metrics.exposition
      assert.include(text, "# TYPE metrics_test_counter counter\nmetrics_test_counter{case=\"exposition\"} 3\n")
      assert.include(text, "smpp_bound_sessions{bind_kind=\"receiver\"} 2\n")
      assert.include(text, "smpp_bound_sessions{bind_kind=\"transmitter\"} 0\n")
      assert.include(text, "smpp_delivery_queue_items 4\n")
      assert.include(text, "smpp_gateway_uptime_seconds 12\n")
    }))
})
