/**
 * Effect metrics in the Prometheus text exposition format (version 0.0.4), for GET /metrics.
 *
 * Every metric of the process's registry (`Metric.snapshot`) is written under its name
 * (characters Prometheus does not allow become `_`), its tags as labels:
 * - counter → `counter`, gauge → `gauge`;
 * - histogram → `histogram`: cumulative `_bucket{le="…"}` series (ending with `+Inf`), `_sum`, `_count`;
 * - summary → `summary`: `{quantile="…"}` series, `_sum`, `_count`;
 * - frequency → `counter`, one series per observed value in the label `key`.
 *
 * Besides the runtime's session metrics (`smpp_pdus_in`, `smpp_sessions`, …), the gateway sets
 * a few gauges when scraped (`recordGatewayGauges`): `smpp_bound_sessions{bind_kind}`,
 * `smpp_delivery_queue_items` and `smpp_gateway_uptime_seconds`; the HTTP API counts its
 * submits in `smpp_http_submits{result}`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"

// ---------------------------------------------------------------------------
// the gateway's own metrics

/**
 * Bound SMPP sessions now, by `bind_kind`; set when scraped.
 *
 * @since 0.1.0
 * @category metrics
 */
export const boundSessions = Metric.gauge("smpp_bound_sessions", { description: "Bound SMPP sessions, by bind kind" })

/**
 * Receipts and MOs waiting in the delivery queue; set when scraped.
 *
 * @since 0.1.0
 * @category metrics
 */
export const deliveryQueueItems = Metric.gauge("smpp_delivery_queue_items", {
  description: "Receipts and MO messages waiting for a deliver_sm_resp"
})

/**
 * Seconds since the HTTP API started; set when scraped.
 *
 * @since 0.1.0
 * @category metrics
 */
export const uptimeSeconds = Metric.gauge("smpp_gateway_uptime_seconds", { description: "Seconds since the gateway started" })

/**
 * Messages submitted over HTTP (one per part), by `result`: `accepted`, `throttled`, `refused`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const httpSubmits = Metric.counter("smpp_http_submits", {
  description: "Message parts submitted over the HTTP API, by result"
})

const BIND_KINDS = ["transmitter", "receiver", "transceiver"] as const

/**
 * Sets the gauges read at scrape time.
 *
 * @since 0.1.0
 * @category metrics
 */
export const recordGatewayGauges = (values: {
  /** Bind kind of each bound session. */
  readonly bindKinds: ReadonlyArray<string>
  readonly queued: number
  readonly uptimeSeconds: number
}): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (const kind of BIND_KINDS) {
      let n = 0
      for (const k of values.bindKinds) if (k === kind) n++
      yield* Metric.set(Metric.tagged(boundSessions, "bind_kind", kind), n)
    }
    yield* Metric.set(deliveryQueueItems, values.queued)
    yield* Metric.set(uptimeSeconds, values.uptimeSeconds)
  })

// ---------------------------------------------------------------------------
// exposition

/**
 * A metric name as Prometheus allows it: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
 *
 * @since 0.1.0
 * @category exposition
 */
export const sanitizeName = (name: string): string => {
  const replaced = name.replace(/[^a-zA-Z0-9_:]/g, "_")
  return /^[0-9]/.test(replaced) || replaced === "" ? `_${replaced}` : replaced
}

/**
 * A label name as Prometheus allows it: `[a-zA-Z_][a-zA-Z0-9_]*`.
 *
 * @since 0.1.0
 * @category exposition
 */
export const sanitizeLabel = (name: string): string => {
  const replaced = name.replace(/[^a-zA-Z0-9_]/g, "_")
  return /^[0-9]/.test(replaced) || replaced === "" ? `_${replaced}` : replaced
}

const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")

const escapeHelp = (value: string): string => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

/**
 * A sample value: integers and floats as JavaScript prints them, `NaN`, `+Inf`, `-Inf`.
 *
 * @since 0.1.0
 * @category exposition
 */
export const formatValue = (value: number | bigint): string => {
  if (typeof value === "bigint") return value.toString()
  if (Number.isNaN(value)) return "NaN"
  if (value === Number.POSITIVE_INFINITY) return "+Inf"
  if (value === Number.NEGATIVE_INFINITY) return "-Inf"
  return String(value)
}

type Labels = ReadonlyArray<readonly [string, string]>

const labelText = (labels: Labels): string => {
  if (labels.length === 0) return ""
  let out = "{"
  for (let i = 0; i < labels.length; i++) {
    if (i > 0) out += ","
    out += `${labels[i][0]}="${escapeLabelValue(labels[i][1])}"`
  }
  return out + "}"
}

type Kind = "counter" | "gauge" | "histogram" | "summary"

interface Family {
  readonly name: string
  readonly kind: Kind
  help: string | undefined
  readonly samples: Array<{ readonly sort: string; readonly lines: Array<string> }>
}

const kindOf = (state: unknown): Kind | undefined =>
  MetricState.isCounterState(state) || MetricState.isFrequencyState(state)
    ? "counter"
    : MetricState.isGaugeState(state)
    ? "gauge"
    : MetricState.isHistogramState(state)
    ? "histogram"
    : MetricState.isSummaryState(state)
    ? "summary"
    : undefined

const linesOf = (name: string, labels: Labels, state: unknown): Array<string> => {
  if (MetricState.isCounterState(state) || MetricState.isGaugeState(state)) {
    const value = MetricState.isCounterState(state) ? state.count : state.value
    return [`${name}${labelText(labels)} ${formatValue(value)}`]
  }
  if (MetricState.isFrequencyState(state)) {
    const keys = [...state.occurrences.keys()].sort()
    return keys.map((key) => `${name}${labelText([...labels, ["key", key]])} ${formatValue(state.occurrences.get(key)!)}`)
  }
  if (MetricState.isHistogramState(state)) {
    const lines: Array<string> = []
    let sawInf = false
    for (const [le, count] of state.buckets) {
      if (le === Number.POSITIVE_INFINITY) sawInf = true
      lines.push(`${name}_bucket${labelText([...labels, ["le", formatValue(le)]])} ${formatValue(count)}`)
    }
    if (!sawInf) lines.push(`${name}_bucket${labelText([...labels, ["le", "+Inf"]])} ${formatValue(state.count)}`)
    lines.push(`${name}_sum${labelText(labels)} ${formatValue(state.sum)}`)
    lines.push(`${name}_count${labelText(labels)} ${formatValue(state.count)}`)
    return lines
  }
  if (MetricState.isSummaryState(state)) {
    const lines: Array<string> = []
    for (const [quantile, value] of state.quantiles) {
      lines.push(
        `${name}${labelText([...labels, ["quantile", formatValue(quantile)]])} ${
          formatValue(Option.getOrElse(value, () => Number.NaN))
        }`
      )
    }
    lines.push(`${name}_sum${labelText(labels)} ${formatValue(state.sum)}`)
    lines.push(`${name}_count${labelText(labels)} ${formatValue(state.count)}`)
    return lines
  }
  return []
}

/**
 * Renders metric pairs as Prometheus text: one `# HELP` / `# TYPE` block per name, families
 * and series in a stable order. A name seen with two kinds keeps the first kind's series.
 *
 * @since 0.1.0
 * @category exposition
 */
export const render = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, Family>()
  for (const pair of pairs) {
    const kind = kindOf(pair.metricState)
    if (kind === undefined) continue
    const name = sanitizeName(pair.metricKey.name)
    let family = families.get(name)
    if (family === undefined) {
      family = { name, kind, help: undefined, samples: [] }
      families.set(name, family)
    } else if (family.kind !== kind) {
      continue
    }
    if (family.help === undefined) family.help = Option.getOrUndefined(pair.metricKey.description)
    const labels: Array<readonly [string, string]> = pair.metricKey.tags
      .map((tag) => [sanitizeLabel(tag.key), tag.value] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    family.samples.push({ sort: labelText(labels), lines: linesOf(name, labels, pair.metricState) })
  }
  let out = ""
  for (const name of [...families.keys()].sort()) {
    const family = families.get(name)!
    if (family.help !== undefined && family.help !== "") out += `# HELP ${name} ${escapeHelp(family.help)}\n`
    out += `# TYPE ${name} ${family.kind}\n`
    family.samples.sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0))
    for (const sample of family.samples) {
      for (const line of sample.lines) out += `${line}\n`
    }
  }
  return out
}

/**
 * Every metric of the registry now, as Prometheus text.
 *
 * @since 0.1.0
 * @category exposition
 */
export const exposition: Effect.Effect<string> = Effect.map(Metric.snapshot, render)
