/**
 * `smpp serve` as a separate process, driven by node-smpp's client: a submit and its receipt
 * and a graceful SIGTERM through the bundle `npm start` runs (`dist/smpp.mjs`, built here),
 * and no loss of receipts across a SIGKILL through the bin (`bin/smpp.js`, tsx).
 */
import { assert, describe, it } from "@effect/vitest"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Esme from "../fixtures/esme.js"
import { configJson, tempDir } from "../fixtures/gateway.js"

const BIN = fileURLToPath(new URL("../../bin/smpp.js", import.meta.url))
const BUNDLE = fileURLToPath(new URL("../../dist/smpp.mjs", import.meta.url))
const BUILD = fileURLToPath(new URL("../../scripts/build.mjs", import.meta.url))
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url))

interface Gateway {
  readonly child: ChildProcess
  readonly port: number
  readonly output: () => string
  /** Resolves with the exit code (or the signal's name) once the process ended. */
  readonly exited: Promise<number | string>
}

// the config file alone decides: none of the variables that would override it
const environment = Object.fromEntries(
  Object.entries(process.env).filter(([key]) =>
    ![
      "GATEWAY_CONFIG",
      "GATEWAY_DB",
      "DATABASE_URL",
      "ADMIN_TOKEN",
      "SMPP_HOST",
      "SMPP_PORT",
      "HTTP_HOST",
      "HTTP_PORT"
    ].includes(key)
  )
)

/** Starts `smpp serve --config <file>` and waits for its banner ("SMPP listening on …"). */
const serve = (configFile: string, program = BIN): Effect.Effect<Gateway, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () =>
        new Promise<Gateway>((resolve, reject) => {
          const child = spawn(process.execPath, [program, "serve", "--config", configFile], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "pipe"],
            env: environment
          })
          let output = ""
          const exited = new Promise<number | string>((done) => {
            child.on("exit", (code, signal) => done(code ?? signal ?? "unknown"))
          })
          const timer = setTimeout(() => reject(new Error(`smpp serve did not start:\n${output}`)), 30_000)
          const onData = (chunk: Buffer) => {
            output += chunk.toString()
            const match = /SMPP listening on [^\s]+:(\d+)/.exec(output)
            // the banner's last line
            if (match !== null && output.includes("message store:")) {
              clearTimeout(timer)
              resolve({ child, port: Number(match[1]), output: () => output, exited })
            }
          }
          child.stdout!.on("data", onData)
          child.stderr!.on("data", onData)
          void exited.then((code) => {
            clearTimeout(timer)
            reject(new Error(`smpp serve exited (${code}) before listening:\n${output}`))
          })
        }),
      catch: (e) => e as Error
    }),
    // whatever the test did, no gateway outlives it
    (gateway) =>
      Effect.promise(() => {
        if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill("SIGKILL")
        return gateway.exited
      })
  )

const signal = (gateway: Gateway, name: NodeJS.Signals) =>
  Effect.promise(() => {
    gateway.child.kill(name)
    return gateway.exited
  })

const writeConfig = (dir: string, overrides?: Record<string, unknown>) => {
  const file = join(dir, "gateway.json")
  writeFileSync(file, JSON.stringify(configJson(dir, { store: { filename: join(dir, "data", "gateway.db") }, ...overrides })))
  return file
}

const submit = (i: number) => ({
  source_addr: "Acme",
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: `49170${String(i).padStart(7, "0")}`,
  short_message: `message ${i}`,
  registered_delivery: 1
})

describe("smpp serve (spawned)", () => {
  it.scopedLive("the bundle npm start runs: binds, submits, delivers the receipt, stops gracefully on SIGTERM", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("serve-")
      // what `npm start` does: build the bundle, run it
      execFileSync(process.execPath, [BUILD], { cwd: ROOT, stdio: "pipe", timeout: 30_000 })
      const gateway = yield* serve(writeConfig(dir), BUNDLE)
      assert.include(gateway.output(), `demo account: system_id "demo", password "demo"`)
      const esme = yield* Esme.bound(gateway.port)
      const response = yield* Esme.call(esme, "submit_sm", submit(1))
      assert.strictEqual(response.command_status, CommandStatus.ESME_ROK)
      const id = response.message_id as string
      yield* Esme.until(esme, () => esme.received.some((pdu) => Esme.receiptedId(pdu) === id), "the receipt")
      assert.include(Esme.textOf(esme.received[0]), `id:${id}`)

      const code = yield* signal(gateway, "SIGTERM")
      assert.strictEqual(code, 0, gateway.output())
      // graceful: the session was unbound before the process ended
      assert.include(esme.commands, "unbind")
    }), 60_000)

  it.scopedLive("loses no receipt across a SIGKILL: all 1,000 arrive after the restart", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("crash-")
      const config = writeConfig(dir, {
        accounts: [{ systemId: "demo", password: "demo", maxThroughput: 100_000 }],
        // half the outcomes come at once (their receipts are queued before the kill),
        // the other half after 3 s (still pending in the simulator when it is killed)
        simulator: { defaultDelay: "3 seconds", rules: [{ percent: 50, outcome: "DELIVRD", delay: "20 millis" }] }
      })
      const total = 1000

      // --- before the crash: submit, take the receipts, acknowledge none
      const first = yield* serve(config)
      const before = yield* Effect.scoped(Effect.gen(function*() {
        const esme = yield* Esme.bound(first.port, { ack: false })
        const responses = yield* Effect.forEach(
          Array.from({ length: total }, (_, i) => i),
          (i) => Esme.call(esme, "submit_sm", submit(i)),
          { concurrency: 100 }
        )
        for (const r of responses) assert.strictEqual(r.command_status, CommandStatus.ESME_ROK)
        const ids = responses.map((r) => r.message_id as string)
        assert.strictEqual(new Set(ids).size, total)
        yield* Esme.until(esme, () => esme.received.length >= 50, "receipts before the kill")
        const killed = yield* signal(first, "SIGKILL")
        assert.strictEqual(killed, "SIGKILL")
        return { ids, received: esme.received.map(Esme.receiptedId) }
      }))

      // --- after the restart on the same store: every receipt arrives
      const second = yield* serve(config)
      const esme = yield* Esme.bound(second.port)
      // some outcomes were still pending in the simulator: they are asked for again
      yield* Esme.until(esme, () => /submitted \d+ messages again after a restart/.test(second.output()), "the resubmission")
      const wanted = new Set(before.ids)
      const seen = new Set<string>()
      let scanned = 0
      yield* Esme.until(esme, () => {
        for (; scanned < esme.received.length; scanned++) {
          const id = Esme.receiptedId(esme.received[scanned])
          if (id !== undefined && wanted.has(id)) seen.add(id)
        }
        return seen.size === wanted.size
      }, "all receipts after the restart", 40_000).pipe(
        Effect.catchAll((error) =>
          Effect.fail(new Error(`${error.message}: ${wanted.size - seen.size} of ${total} missing`))
        )
      )
      const after = esme.received.map(Esme.receiptedId)
      const counts = new Map<string, number>()
      for (const id of [...before.received, ...after]) if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1)
      const missing = before.ids.filter((id) => !counts.has(id))
      const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0)
      const duplicatesAfter = after.length - new Set(after).size
      console.log(
        `crash test: ${total} submitted; ${before.received.length} receipts delivered (unacknowledged) before ` +
          `SIGKILL, ${after.length} after the restart; distinct ${counts.size}, missing ${missing.length}, ` +
          `duplicates ${duplicates} (of which after the restart alone: ${duplicatesAfter})`
      )
      assert.deepStrictEqual(missing, [])
      assert.strictEqual(counts.size, total)
      // what the customer never acknowledged is delivered again
      for (const id of before.received) assert.include(after, id)
      assert.strictEqual(yield* signal(second, "SIGTERM"), 0)
    }), 60_000)
})
