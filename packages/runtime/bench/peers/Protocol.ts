/**
 * What the benchmark's processes share: how a peer process reports to the orchestrator (one
 * line `@@<json>` on stdout; any other line is forwarded as it is), how it takes commands (one
 * JSON line on stdin each), the runs a load client performs, and latency recording.
 */
import * as Readline from "node:readline"

/** A run of a load client, on a fresh session (one connection, bound as a transceiver). */
/**
 * How our client is called: `effect` — `client.submitSm`, one Effect per call, from `window`
 * caller fibers; `callback` — `client.unsafeRequest`, callbacks only (node-smpp's style).
 */
export type Api = "effect" | "callback"

export type Run =
  | {
    /** Closed loop: `window` callers, each sending its next submit_sm when its last is answered. */
    readonly kind: "throughput"
    readonly api?: Api | undefined
    readonly window: number
    readonly warmupMs: number
    readonly durationMs: number
  }
  | {
    /** Open loop: submit_sm sent at `rate` per second whatever the answers, at most `window` in flight. */
    readonly kind: "rate"
    readonly api?: Api | undefined
    readonly rate: number
    readonly window: number
    readonly warmupMs: number
    readonly durationMs: number
  }

export interface ClientConfig {
  readonly port: number
  readonly runs: ReadonlyArray<Run>
}

export interface IdleConfig {
  readonly port: number
  readonly sessions: number
  /** Connections being opened at once. */
  readonly parallel: number
  /** Each session sends enquire_link this often (and answers the server's). */
  readonly enquireLinkMs: number
}

export interface ServerConfig {
  /** The server's own enquire_link interval, where it has one. */
  readonly enquireLinkMs?: number | undefined
}

export interface Latency {
  readonly p50: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

export interface RunResult {
  readonly run: Run
  readonly completed: number
  readonly errors: number
  readonly elapsedMs: number
  /** Answered submit_sm per second. */
  readonly throughput: number
  /** Milliseconds from the call to its answer. */
  readonly latency: Latency
}

export type Message =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "result"; readonly result: RunResult }
  | { readonly type: "bound"; readonly sessions: number; readonly failed: number; readonly elapsedMs: number }
  | { readonly type: "memory"; readonly rss: number; readonly heapUsed: number; readonly sessions: number }
  | { readonly type: "error"; readonly message: string }

export type Command = { readonly cmd: "memory" } | { readonly cmd: "exit" }

export const report = (message: Message): void => {
  process.stdout.write(`@@${JSON.stringify(message)}\n`)
}

export const configOf = <A>(): A => JSON.parse(process.argv[2] ?? "{}") as A

/** Calls `handler` with every command on stdin; stdin closing means exit. */
export const onCommand = (handler: (command: Command) => void): void => {
  const lines = Readline.createInterface({ input: process.stdin })
  lines.on("line", (line) => {
    if (line.trim() !== "") handler(JSON.parse(line) as Command)
  })
  lines.on("close", () => process.exit(0))
}

/** Memory after full collections (the process runs with --expose-gc). */
export const measureMemory = async (): Promise<{ readonly rss: number; readonly heapUsed: number }> => {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 4; i++) {
    gc?.()
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const usage = process.memoryUsage()
  return { rss: usage.rss, heapUsed: usage.heapUsed }
}

/** Latencies in milliseconds, in a growable typed array (no allocation per sample). */
export class Recorder {
  private samples = new Float64Array(1 << 16)
  count = 0

  add(ms: number): void {
    if (this.count === this.samples.length) {
      const next = new Float64Array(this.samples.length * 2)
      next.set(this.samples)
      this.samples = next
    }
    this.samples[this.count++] = ms
  }

  summary(): Latency {
    const sorted = this.samples.slice(0, this.count).sort()
    const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!)
    return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1) }
  }
}

export const resultOf = (run: Run, recorder: Recorder, errors: number, elapsedMs: number): RunResult => ({
  run,
  completed: recorder.count,
  errors,
  elapsedMs,
  throughput: recorder.count / (elapsedMs / 1000),
  latency: recorder.summary()
})

/**
 * The pacer of a `rate` run: releases `rate` tickets per second, whatever the answers, until
 * `durationMs` have passed; each ticket is one submit_sm to send, stamped with the time it was
 * released (its latency is counted from then, waiting for a free caller included). It wakes
 * every millisecond and releases what is due by then (at 50,000/s: bursts of about 50): a
 * timer rather than a busy loop, which would take a whole CPU from the two processes measured.
 * Resolves with the number released once the time is up.
 */
export const paced = (rate: number, durationMs: number, release: (t0: number) => void): Promise<number> =>
  new Promise((resolve) => {
    const start = performance.now()
    let issued = 0
    const tick = (): void => {
      const now = performance.now()
      const due = Math.floor(((Math.min(now - start, durationMs)) * rate) / 1000)
      while (issued < due) {
        issued++
        release(now)
      }
      if (now - start >= durationMs) resolve(issued)
      else setTimeout(tick, 1)
    }
    tick()
  })
