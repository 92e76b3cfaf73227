/**
 * A small throughput harness: warm up, then timed rounds of fixed duration, median ops/s.
 *
 * A `Loop` runs its operation `n` times in its own `for` loop (so each benchmark has its
 * own monomorphic call sites) and returns a number folded into a global sink that is
 * printed at the end, so the JIT cannot drop the work as dead code.
 */
import { performance } from "node:perf_hooks"

export type Loop = (n: number) => number

export interface Settings {
  /** operations run before timing (capped by `warmupMaxMs`) */
  readonly warmupOps: number
  readonly warmupMaxMs: number
  readonly rounds: number
  readonly roundMs: number
}

export interface Result {
  /** median ops/s over the rounds */
  readonly median: number
  readonly min: number
  readonly max: number
}

let sink = 0

/** The sink, to print once at the end. */
export const sinkValue = (): number => sink

const envNumber = (name: string, fallback: number): number => {
  const raw = process.env[name]
  const value = raw === undefined ? NaN : Number(raw)
  return Number.isFinite(value) && value > 0 ? value : fallback
}

/** Defaults, overridable by BENCH_WARMUP_OPS, BENCH_WARMUP_MAX_MS, BENCH_ROUNDS, BENCH_ROUND_MS. */
export const settingsFromEnv = (): Settings => ({
  warmupOps: envNumber("BENCH_WARMUP_OPS", 200_000),
  warmupMaxMs: envNumber("BENCH_WARMUP_MAX_MS", 400),
  rounds: Math.floor(envNumber("BENCH_ROUNDS", 5)),
  roundMs: envNumber("BENCH_ROUND_MS", 500)
})

/** Runs `loop` in batches; answers [ops, elapsed ms]. */
const runFor = (loop: Loop, batch: number, maxOps: number, maxMs: number): [number, number] => {
  let ops = 0
  const start = performance.now()
  let elapsed = 0
  do {
    sink = (sink + loop(batch)) | 0
    ops += batch
    elapsed = performance.now() - start
  } while (ops < maxOps && elapsed < maxMs)
  return [ops, elapsed]
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Measures several loops together: all are warmed up first, then their timed rounds
 * alternate (A B A B …) so that drift of the machine hits each of them alike.
 */
export const measure = (loops: ReadonlyArray<Loop>, settings: Settings): Array<Result> => {
  const batches = loops.map((loop) => {
    const [ops, ms] = runFor(loop, 100, settings.warmupOps, settings.warmupMaxMs)
    const perMs = ops / Math.max(ms, 0.001)
    // about 1 ms per batch: the clock is read rarely, and a round still ends on time
    return Math.max(10, Math.min(10_000, Math.round(perMs)))
  })
  const samples: Array<Array<number>> = loops.map(() => [])
  for (let r = 0; r < settings.rounds; r++) {
    loops.forEach((loop, i) => {
      const [ops, ms] = runFor(loop, batches[i], Infinity, settings.roundMs)
      samples[i].push(ops / (ms / 1000))
    })
  }
  return samples.map((s) => ({ median: median(s), min: Math.min(...s), max: Math.max(...s) }))
}
