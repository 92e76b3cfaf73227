/**
 * Client/server benchmark: one SMPP session over TCP on 127.0.0.1, client and server in
 * separate processes — ours (SmppClient ↔ SmppServer) against node-smpp's (its client ↔ its
 * server), in the same run, with ratios. Not a test: the numbers depend on the machine.
 *
 * 1. submit_sm → submit_sm_resp, closed loop at windows 1, 10 and 100: throughput and
 *    p50 / p99 / p99.9 latency (from the call to its answer). Ours twice: through the Effect
 *    API (`client.submitSm`, a caller fiber per window slot) and the callback API
 *    (`client.unsafeRequest`, like node-smpp's).
 * 2. Open loop at 50,000 submit_sm/s (100 callers take what is due each millisecond; latency
 *    counted from then, waiting for a free caller included): p99 (goal < 2 ms), and whether
 *    the rate was held. node-smpp's pair runs it only if its closed loop reached the rate.
 * 3. Idle sessions: N bound sessions on one server process, keepalive running, the clients in
 *    another process (node-smpp sessions for both servers: only the server is measured);
 *    RSS per session = (RSS after − RSS before) / sessions, both after full GCs.
 *
 * Every process entry is bundled with esbuild first (keepNames off, packages external but our
 * workspace's): tsx's loader wraps every named closure in `__name`, which slows our code down
 * measurably and would make the comparison unfair.
 *
 *   npm run bench                      (from packages/runtime; runs bench/SessionLoop.ts first)
 *   npx tsx packages/runtime/bench/ClientServer.ts [sessions=10000] [duration=3000] [rate=50000] [idle|load]
 *
 * `idle` or `load` runs only that part (while working on one of them).
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { fileURLToPath } from "node:url"
import { build, type Plugin } from "esbuild"
import type { Api, ClientConfig, Command, IdleConfig, Message, RunResult, ServerConfig } from "./peers/Protocol.js"

// ---------------------------------------------------------------------------------------------
// settings: `key=value` arguments

const args = Object.fromEntries(
  process.argv.slice(2).flatMap((arg) => {
    const [key, value] = arg.split("=")
    return key !== undefined && value !== undefined ? [[key, Number(value)]] : []
  })
) as Record<string, number | undefined>

const SESSIONS = args.sessions ?? 10_000
const DURATION_MS = args.duration ?? 3_000
const WARMUP_MS = args.warmup ?? 1_000
const RATE = args.rate ?? 50_000
const RATE_WINDOW = args.rateWindow ?? 100
const ENQUIRE_LINK_MS = args.enquireLink ?? 5_000
const WINDOWS = [1, 10, 100]
const ONLY = process.argv.slice(2).find((arg) => arg === "idle" || arg === "load")

const GOAL_THROUGHPUT = 200_000
const GOAL_P99_MS = 2

// ---------------------------------------------------------------------------------------------
// bundling

const here = Path.dirname(fileURLToPath(import.meta.url))
const requireHere = createRequire(import.meta.url)
// The bundles import the external packages at run time: they must sit under the node_modules
// that holds them.
const nodeModules = Path.dirname(Path.dirname(requireHere.resolve("effect/package.json")))

const peers = ["OurServer", "OurClient", "NodeSmppServer", "NodeSmppClient", "IdleClients"] as const
type PeerName = (typeof peers)[number]

/** Every bare import is external, but our workspace's packages: those are bundled from source. */
const externalPackages: Plugin = {
  name: "external-packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@effect-smpp/") ? undefined : { path: args.path, external: true })
  }
}

const bundle = async (): Promise<string> => {
  const cache = Path.join(nodeModules, ".cache")
  Fs.mkdirSync(cache, { recursive: true })
  const outdir = Fs.mkdtempSync(Path.join(cache, "effect-smpp-bench-"))
  await build({
    entryPoints: Object.fromEntries(peers.map((name) => [name, Path.join(here, "peers", `${name}.ts`)])),
    outdir,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    keepNames: false,
    outExtension: { ".js": ".mjs" },
    plugins: [externalPackages],
    logLevel: "warning"
  })
  return outdir
}

// ---------------------------------------------------------------------------------------------
// peer processes

const children = new Set<ChildProcess>()

interface Peer {
  /** The next message of this type (earlier ones of other types are kept). */
  readonly next: <T extends Message["type"]>(type: T) => Promise<Extract<Message, { type: T }>>
  readonly send: (command: Command) => void
  /** Asks it to exit; kills it if it has not within a second. */
  readonly stop: () => Promise<void>
}

const start = (dir: string, name: PeerName, config: ClientConfig | IdleConfig | ServerConfig): Peer => {
  // As many open files as the hard limit allows (10,000 sessions need 10,000 sockets).
  const script = "ulimit -n 65536 2>/dev/null || ulimit -n \"$(ulimit -Hn)\"; exec node --expose-gc \"$0\" \"$1\""
  const child = spawn("bash", ["-c", script, Path.join(dir, `${name}.mjs`), JSON.stringify(config)], {
    stdio: ["pipe", "pipe", "inherit"]
  })
  children.add(child)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  void exited.then(() => children.delete(child))
  const messages: Array<Message> = []
  let waiter: (() => void) | undefined
  Readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    if (!line.startsWith("@@")) {
      process.stderr.write(`[${name}] ${line}\n`)
      return
    }
    messages.push(JSON.parse(line.slice(2)) as Message)
    waiter?.()
  })
  let gone = false
  void exited.then(() => {
    gone = true
    waiter?.()
  })
  const next = <T extends Message["type"]>(type: T): Promise<Extract<Message, { type: T }>> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const at = messages.findIndex((m) => m.type === type || m.type === "error")
        if (at >= 0) {
          const [message] = messages.splice(at, 1)
          waiter = undefined
          if (message!.type === "error") reject(new Error(`${name}: ${message!.message}`))
          else resolve(message as Extract<Message, { type: T }>)
        } else if (gone) {
          waiter = undefined
          reject(new Error(`${name} exited (code ${child.exitCode}) before reporting ${type}`))
        }
      }
      waiter = check
      check()
    })
  return {
    next,
    send: (command) => child.stdin!.write(`${JSON.stringify(command)}\n`),
    stop: async () => {
      if (child.exitCode === null && !child.killed) {
        child.stdin!.end(`${JSON.stringify({ cmd: "exit" })}\n`)
        const timer = setTimeout(() => child.kill("SIGKILL"), 1000)
        await exited
        clearTimeout(timer)
      }
    }
  }
}

process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL")
})

// ---------------------------------------------------------------------------------------------
// the runs

type Impl = "ours" | "node-smpp"
const serverOf: Record<Impl, PeerName> = { ours: "OurServer", "node-smpp": "NodeSmppServer" }
const clientOf: Record<Impl, PeerName> = { ours: "OurClient", "node-smpp": "NodeSmppClient" }

const closedRuns = (api: Api): ClientConfig["runs"] =>
  WINDOWS.map((window) => ({
    kind: "throughput" as const,
    api,
    window,
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS
  }))
const rateRun = (api: Api): ClientConfig["runs"][number] => ({
  kind: "rate",
  api,
  rate: RATE,
  window: RATE_WINDOW,
  warmupMs: WARMUP_MS,
  durationMs: DURATION_MS + 2_000
})

/** Runs a client process against the server on `port`; answers each run's result. */
const drive = async (dir: string, impl: Impl, port: number, runs: ClientConfig["runs"]) => {
  const client = start(dir, clientOf[impl], { port, runs })
  try {
    const results: Array<RunResult> = []
    for (let i = 0; i < runs.length; i++) {
      const { result } = await client.next("result")
      results.push(result)
      process.stderr.write(`  ${impl} ${describeRun(result.run)}: ${fmt(result.throughput)}/s\n`)
    }
    return results
  } finally {
    await client.stop()
  }
}

interface Load {
  readonly closed: ReadonlyArray<RunResult>
  /** Absent when the implementation's best closed-loop rate is below the target rate. */
  readonly rate: RunResult | undefined
}

/**
 * The closed-loop runs, then the rate-limited run (in a fresh client process) — ours always,
 * node-smpp's only when it can sustain the rate (its backlog would otherwise grow for the
 * whole run). node-smpp has one API: `api` means nothing to its client.
 */
const load = async (dir: string, impl: Impl, api: Api): Promise<Load> => {
  const server = start(dir, serverOf[impl], {})
  try {
    const { port } = await server.next("listening")
    const closed = await drive(dir, impl, port, closedRuns(api))
    const best = Math.max(...closed.map((r) => r.throughput))
    const rate = impl === "ours" || best >= RATE ? (await drive(dir, impl, port, [rateRun(api)]))[0] : undefined
    return { closed, rate }
  } finally {
    await server.stop()
  }
}

interface Idle {
  readonly sessions: number
  readonly failed: number
  readonly connectMs: number
  readonly before: number
  readonly after: number
  readonly heapBefore: number
  readonly heapAfter: number
}

const idle = async (dir: string, impl: Impl): Promise<Idle> => {
  const server = start(dir, serverOf[impl], { enquireLinkMs: ENQUIRE_LINK_MS })
  try {
    const { port } = await server.next("listening")
    server.send({ cmd: "memory" })
    const before = await server.next("memory")
    const clients = start(dir, "IdleClients", {
      port,
      sessions: SESSIONS,
      parallel: 200,
      enquireLinkMs: ENQUIRE_LINK_MS
    })
    try {
      const bound = await clients.next("bound")
      // Long enough for every session to go through a keepalive exchange.
      await new Promise((resolve) => setTimeout(resolve, ENQUIRE_LINK_MS + 1_500))
      server.send({ cmd: "memory" })
      const after = await server.next("memory")
      return {
        sessions: after.sessions,
        failed: bound.failed,
        connectMs: bound.elapsedMs,
        before: before.rss,
        after: after.rss,
        heapBefore: before.heapUsed,
        heapAfter: after.heapUsed
      }
    } finally {
      await clients.stop()
    }
  } finally {
    await server.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// the report

const fmt = (n: number): string => Math.round(n).toLocaleString("en")
const ms = (n: number): string => n.toFixed(n < 10 ? 3 : 1)
const ratio = (a: number, b: number): string => (b === 0 ? "-" : `${(a / b).toFixed(2)}×`)
const pad = (s: string, n: number): string => s.padStart(n)
const describeRun = (run: RunResult["run"]): string =>
  run.kind === "throughput" ? `window ${run.window}` : `${fmt(run.rate)}/s`
const apiName: Record<Api, string> = {
  effect: "Effect API (client.submitSm)",
  callback: "callback API (client.unsafeRequest)"
}

const row = (cells: ReadonlyArray<string>, widths: ReadonlyArray<number>): string =>
  cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[0]!) : pad(cell, widths[i]!))).join("  ")

/** The 1-minute load average: other work on the machine skews every figure here. */
const load1 = (): string => Os.loadavg()[0]!.toFixed(2)

const main = async () => {
  console.log(
    `client/server benchmark — node ${process.version}, ${Os.cpus().length} × ${Os.cpus()[0]?.model ?? "?"}, ` +
      `load average ${load1()} at the start`
  )
  process.stderr.write("bundling the peers with esbuild …\n")
  const dir = await bundle()
  try {
    if (ONLY !== "idle") await loadPart(dir)
    if (ONLY !== "load") await idlePart(dir)
    console.log(`load average ${load1()} at the end (this run's own two processes count for about 2)`)
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

const loadPart = async (dir: string) => {
  process.stderr.write("load runs …\n")
  const ours = { effect: await load(dir, "ours", "effect"), callback: await load(dir, "ours", "callback") }
  const theirs = await load(dir, "node-smpp", "callback")

  console.log("\nsubmit_sm → submit_sm_resp, one session, client and server in separate processes (latency in ms)")
  const widths = [14, 10, 7, 7, 7, 10, 7, 7, 7, 10, 9]
  console.log(row(
    ["", "ours/s", "p50", "p99", "p99.9", "smpp/s", "p50", "p99", "p99.9", "× rate", "× p99"],
    widths
  ))
  const rows: Array<readonly [RunResult, RunResult | undefined] | string> = []
  for (const api of ["effect", "callback"] as const) {
    rows.push(apiName[api])
    rows.push(...ours[api].closed.map((a, i) => [a, theirs.closed[i]] as const))
    rows.push([ours[api].rate!, theirs.rate])
  }
  for (const cells of rows) {
    if (typeof cells === "string") {
      console.log(cells)
      continue
    }
    const [a, b] = cells
    console.log(row([
      `  ${describeRun(a.run)}`,
      fmt(a.throughput),
      ms(a.latency.p50),
      ms(a.latency.p99),
      ms(a.latency.p999),
      b === undefined ? "-" : fmt(b.throughput),
      b === undefined ? "-" : ms(b.latency.p50),
      b === undefined ? "-" : ms(b.latency.p99),
      b === undefined ? "-" : ms(b.latency.p999),
      b === undefined ? "-" : ratio(a.throughput, b.throughput),
      b === undefined ? "-" : ratio(b.latency.p99, a.latency.p99)
    ], widths))
  }
  const all = [
    ...[ours.effect, ours.callback, theirs].flatMap((l) => l.closed),
    ...[ours.effect.rate, ours.callback.rate, theirs.rate].filter((r) => r !== undefined)
  ]
  const errors = all.reduce((sum, r) => sum + r.errors, 0)
  if (errors > 0) console.log(`(${errors} submit_sm failed or refused across the runs)`)
  if (theirs.rate === undefined) {
    const best = Math.max(...theirs.closed.map((r) => r.throughput))
    console.log(`(node-smpp's rate run left out: its best closed-loop rate, ${fmt(best)}/s, is below ${fmt(RATE)}/s)`)
  }
  console.log("× rate: ours / node-smpp's throughput; × p99: node-smpp's p99 / ours (above 1: ours is faster)")

  const held = (r: RunResult) => r.throughput >= RATE * 0.98
  const ratedTheirs = theirs.rate
  console.log("\ngoals")
  for (const api of ["effect", "callback"] as const) {
    const w100 = ours[api].closed.find((r) => r.run.kind === "throughput" && r.run.window === 100)!
    console.log(
      `  ${apiName[api]}: ≥ ${fmt(GOAL_THROUGHPUT)} submit_sm/s at window 100 on one session: ` +
        `${fmt(w100.throughput)}/s — ${verdict(w100.throughput >= GOAL_THROUGHPUT)}`
    )
  }
  for (const api of ["effect", "callback"] as const) {
    const rated = ours[api].rate!
    console.log(
      `  ${apiName[api]}: p99 < ${GOAL_P99_MS} ms at ${fmt(RATE)}/s: ${ms(rated.latency.p99)} ms at ` +
        `${fmt(rated.throughput)}/s${held(rated) ? "" : " (rate not held)"} — ` +
        verdict(held(rated) && rated.latency.p99 < GOAL_P99_MS)
    )
  }
  console.log(
    ratedTheirs === undefined
      ? "  (node-smpp cannot sustain the rate)"
      : `  (node-smpp: ${ms(ratedTheirs.latency.p99)} ms at ${fmt(ratedTheirs.throughput)}/s` +
        `${held(ratedTheirs) ? "" : ", rate not held"})`
  )
}

const verdict = (ok: boolean) => (ok ? "met" : "NOT met")

const idlePart = async (dir: string) => {
  process.stderr.write("idle sessions …\n")
  const idleOurs = await idle(dir, "ours")
  const idleTheirs = await idle(dir, "node-smpp")
  const perSession = (r: Idle) => (r.after - r.before) / Math.max(1, r.sessions)
  const heapPerSession = (r: Idle) => (r.heapAfter - r.heapBefore) / Math.max(1, r.sessions)
  console.log(`\nidle bound sessions on one server process, keepalive every ${ENQUIRE_LINK_MS / 1000} s (RSS after GC)`)
  const w2 = [10, 9, 12, 13, 14, 14]
  console.log(row(["", "sessions", "connect s", "RSS before", "RSS/session", "heap/session"], w2))
  for (const [name, r] of [["ours", idleOurs], ["node-smpp", idleTheirs]] as const) {
    console.log(row([
      name,
      fmt(r.sessions),
      (r.connectMs / 1000).toFixed(1),
      `${(r.before / 1048576).toFixed(0)} MiB`,
      `${(perSession(r) / 1024).toFixed(1)} KiB`,
      `${(heapPerSession(r) / 1024).toFixed(1)} KiB`
    ], w2))
  }
  for (const [name, r] of [["ours", idleOurs], ["node-smpp", idleTheirs]] as const) {
    if (r.sessions < SESSIONS) {
      console.log(`(${name}: only ${fmt(r.sessions)} of ${fmt(SESSIONS)} sessions bound; ${r.failed} failed)`)
    }
  }

  console.log(
    `  RSS/session ≤ node-smpp's: ${(perSession(idleOurs) / 1024).toFixed(1)} KiB vs ` +
      `${(perSession(idleTheirs) / 1024).toFixed(1)} KiB — ${verdict(perSession(idleOurs) <= perSession(idleTheirs))}`
  )
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
