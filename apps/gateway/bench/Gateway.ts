/**
 * End to end: `smpp serve` in its own process (a temporary SQLite store, `synchronous` as
 * `npm start` has it, SMPP on port 0), then `smpp bench --dlr` against it from this one:
 * submits/s, receipts/s (submit → stored → simulated delivery → receipt acknowledged) and
 * the latency percentiles of both.
 *
 *   npx tsx apps/gateway/bench/Gateway.ts [messages] [sessions] [window] [--no-dlr] [--prof DIR]
 *
 * `--prof DIR` runs the gateway under `node --cpu-prof --cpu-prof-dir DIR`. It prints the
 * gateway's CPU time per message and this process's (the client's): on a shared machine
 * those vary less than msgs/s. `GATEWAY_BIN` runs another entry point than `bin/smpp.js`
 * (e.g. an esbuild bundle of `src/main.ts`, to compare with tsx's loader).
 */
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { bench, ProgressOutput } from "../src/cli/BenchCommand.js"

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const valueOf = (name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const positional = args.filter((arg, i) => !arg.startsWith("--") && !(i > 0 && args[i - 1] === "--prof"))
const messages = Number(positional[0] ?? 50_000)
const sessions = Number(positional[1] ?? 4)
const window = Number(positional[2] ?? 200)
const dlr = !flag("--no-dlr")
const prof = valueOf("--prof")

const here = dirname(fileURLToPath(import.meta.url))
const bin = process.env.GATEWAY_BIN ?? join(here, "..", "bin", "smpp.js")
const dir = mkdtempSync(join(tmpdir(), "gateway-bench-"))
const configFile = join(dir, "config.json")
writeFileSync(
  configFile,
  JSON.stringify({
    smpp: { host: "127.0.0.1", port: 0 },
    http: { host: "127.0.0.1", port: 0 },
    store: { filename: join(dir, "gateway.db") }
  })
)

const nodeArgs = prof === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", prof]
const child = spawn(process.execPath, [...nodeArgs, bin, "serve", "--config", configFile], {
  stdio: ["ignore", "pipe", "inherit"]
})

const port = await new Promise<number>((resolve, reject) => {
  let out = ""
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString()
    const match = /SMPP listening on [^\s]*:(\d+)/.exec(out)
    if (match !== null) resolve(Number(match[1]))
  })
  child.on("exit", (code) => reject(new Error(`gateway exited with ${code}: ${out}`)))
})

// the gateway's CPU time so far (user + system, ms): a figure that holds when other work
// shares the machine, unlike msgs/s
const cpuMillis = (): number => {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return Number.NaN
  }
}

const stop = () =>
  new Promise<void>((resolve) => {
    child.once("exit", () => resolve())
    child.kill("SIGINT")
  })

try {
  const cpuBefore = cpuMillis()
  const clientBefore = process.cpuUsage()
  const report = await Effect.runPromise(
    bench({
      host: "127.0.0.1",
      port,
      systemId: "demo",
      password: "demo",
      tls: false,
      verbose: false,
      messages,
      window,
      sessions,
      rate: 0,
      dlr,
      from: "Bench",
      to: "491701234567",
      text: "Hello from the gateway benchmark",
      timeout: 60
    }).pipe(
      Effect.provideService(ProgressOutput, { write: () => {} }),
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
  )
  const cpu = cpuMillis() - cpuBefore
  const client = process.cpuUsage(clientBefore)
  const clientCpu = (client.user + client.system) / 1000
  console.log(
    `gateway CPU  ${(cpu / 1000).toFixed(1)} s for ${report.accepted} messages: ` +
      `${((cpu * 1000) / Math.max(1, report.accepted)).toFixed(0)} µs per message ` +
      `(${Math.round((report.accepted * 1000) / cpu)} msgs per CPU-second)`
  )
  console.log(
    `client CPU   ${(clientCpu / 1000).toFixed(1)} s: ` +
      `${((clientCpu * 1000) / Math.max(1, report.accepted)).toFixed(0)} µs per message`
  )
} finally {
  await stop()
  rmSync(dir, { recursive: true, force: true })
}
