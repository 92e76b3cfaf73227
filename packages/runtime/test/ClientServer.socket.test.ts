/**
 * SmppClient and SmppServer over real sockets on 127.0.0.1 (port 0), in real time. Every test
 * is bounded and closes what it opens.
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Pdu from "@effect-smpp/schema/Pdu"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as Resend from "../src/Resend.js"
import * as Session from "../src/Session.js"
import * as SmppClient from "../src/SmppClient.js"
import * as SmppServer from "../src/SmppServer.js"

const HOST = "127.0.0.1"
const accounts = SmppServer.passwords({ alice: "secret" })
const text = (s: string) => new TextEncoder().encode(s)

/** A server that answers submit_sm with `<prefix><n>`. */
const numberingServer = (prefix: string, options?: Partial<SmppServer.Config>) => {
  let n = 0
  return SmppServer.make({
    host: HOST,
    port: 0,
    authenticate: accounts,
    handlers: { submit_sm: () => Effect.sync(() => Pdu.make("submit_sm_resp", { messageId: `${prefix}${++n}` })) },
    ...options
  })
}

const clientOf = (port: number, options?: Partial<SmppClient.Config>) =>
  SmppClient.make({ host: HOST, port, systemId: "alice", password: "secret", ...options })

/** A self-signed certificate for localhost / 127.0.0.1: fresh from openssl when it is there, else the fixture. */
const certificate = (): { readonly key: string; readonly cert: string; readonly generated: boolean } => {
  const fixtures = fileURLToPath(new URL("./fixtures", import.meta.url))
  try {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "smpp-tls-"))
    try {
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", Path.join(dir, "key.pem"), "-out", Path.join(dir, "cert.pem"), "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"
      ], { stdio: "ignore", timeout: 10_000 })
      return {
        key: Fs.readFileSync(Path.join(dir, "key.pem"), "utf8"),
        cert: Fs.readFileSync(Path.join(dir, "cert.pem"), "utf8"),
        generated: true
      }
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  } catch {
    return {
      key: Fs.readFileSync(Path.join(fixtures, "localhost-key.pem"), "utf8"),
      cert: Fs.readFileSync(Path.join(fixtures, "localhost-cert.pem"), "utf8"),
      generated: false
    }
  }
}

describe("SmppClient ↔ SmppServer over TCP", () => {
  it.live("bind, submit and deliver", () =>
    Effect.gen(function*() {
      const server = yield* numberingServer("id-")
      assert.strictEqual(server.address?.host, HOST)
      assert.isAbove(server.address?.port ?? 0, 0)
      const received = yield* Queue.unbounded<SmppClient.Delivery>()
      const client = yield* clientOf(server.address!.port, { onDelivery: (d) => Queue.offer(received, d) })
      const { messageIds } = yield* client.submit({ from: "Shop", to: "+4912345678", text: "é".repeat(200) })
      assert.deepStrictEqual(messageIds, ["id-1", "id-2"])
      const [info] = yield* server.sessions
      assert.match(info!.peer ?? "", /^127\.0\.0\.1:\d+$/)
      const response = yield* server.deliver(
        "alice",
        Pdu.make("deliver_sm", { sourceAddr: "4912345678", destinationAddr: "Shop", shortMessage: text("thanks") })
      )
      assert.strictEqual(response.commandStatus, CommandStatus.ESME_ROK)
      const mo = yield* Queue.take(received)
      assert.strictEqual(mo._tag === "MoMessage" ? mo.text : "", "thanks")
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("the server never has more than the window of unanswered requests", () =>
    Effect.gen(function*() {
      const window = 8
      let outstanding = 0
      let maxOutstanding = 0
      let n = 0
      const pending = yield* Queue.unbounded<{ readonly session: Session.Session; readonly seq: number }>()
      const server = yield* SmppServer.make({
        host: HOST,
        port: 0,
        authenticate: accounts,
        handlers: {
          submit_sm: (pdu, context) =>
            Effect.sync(() => {
              outstanding++
              maxOutstanding = Math.max(maxOutstanding, outstanding)
              Queue.unsafeOffer(pending, { session: context.session, seq: pdu.sequenceNumber })
              return Session.noResponse
            })
        }
      })
      // Answers what waits, a batch at a time, a little later.
      yield* Effect.forkScoped(Effect.forever(
        Effect.gen(function*() {
          const batch = yield* Queue.takeBetween(pending, 1, 5)
          yield* Effect.sleep("2 millis")
          for (const { seq, session } of batch) {
            outstanding--
            yield* session.send(Pdu.make("submit_sm_resp", { sequenceNumber: seq, messageId: `w${++n}` }))
          }
        })
      ))
      const client = yield* clientOf(server.address!.port, { session: { windowSize: window } })
      const results = yield* Effect.forEach(
        Array.from({ length: 300 }, (_, i) => i),
        (i) => client.submit({ from: "me", to: "+49123", text: `m${i}` }),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(results.map((r) => r.messageIds[0])).size, 300)
      assert.isAtMost(maxOutstanding, window)
      assert.strictEqual(maxOutstanding, window)
    }).pipe(Effect.scoped, Effect.timeout("20 seconds")))

  it.live("10,000 submits at window 64 all get distinct ids", () =>
    Effect.gen(function*() {
      const server = yield* numberingServer("")
      const client = yield* clientOf(server.address!.port, { session: { windowSize: 64 } })
      yield* client.awaitBound
      const results = yield* Effect.forEach(
        Array.from({ length: 10_000 }, (_, i) => i),
        (i) => client.submit({ from: "me", to: "+4912345678", text: `message ${i}` }),
        { concurrency: "unbounded" }
      )
      const ids = new Set(results.map((r) => r.messageIds[0]))
      assert.strictEqual(ids.size, 10_000)
      const [info] = yield* server.sessions
      // The bind and the 10,000 submits.
      assert.strictEqual(info!.stats.requestsHandled, 10_001)
      // Batching: far fewer socket writes than PDUs.
      assert.isBelow(info!.stats.writes, 10_000)
    }).pipe(Effect.scoped, Effect.timeout("60 seconds")), 70_000)

  it.live("the server killed mid-stream: the client reconnects, every submit resolves exactly once", () =>
    Effect.gen(function*() {
      const total = 2000
      let answered = 0
      const halfway = yield* Deferred.make<void>()
      const firstScope = yield* Scope.make()
      const handlers = (prefix: string): SmppServer.Handlers => {
        let n = 0
        return {
          submit_sm: () =>
            Effect.sync(() => {
              if (++answered === total / 4) Deferred.unsafeDone(halfway, Exit.void)
              return Pdu.make("submit_sm_resp", { messageId: `${prefix}${++n}` })
            })
        }
      }
      const first = yield* Scope.extend(
        SmppServer.make({ host: HOST, port: 0, authenticate: accounts, handlers: handlers("a") }),
        firstScope
      )
      const port = first.address!.port
      const client = yield* clientOf(port, {
        session: { windowSize: 16, responseTimeout: "2 seconds" },
        reconnect: Schedule.spaced("50 millis"),
        requestTimeout: "10 seconds",
        submitRetry: Resend.clientPolicy({ base: "20 millis", cap: "200 millis", attempts: 5 })
      })
      const states: Array<string> = []
      yield* Effect.forkScoped(Stream.runForEach(client.stateChanges, (s) => Effect.sync(() => states.push(s._tag))))
      const submits = yield* Effect.forkScoped(Effect.forEach(
        Array.from({ length: total }, (_, i) => i),
        (i) => Effect.exit(client.submit({ from: "me", to: "+49123", text: `n${i}` })),
        { concurrency: "unbounded" }
      ))
      yield* Deferred.await(halfway)
      // Kill: every session dropped at once (no unbind), then the listener closed.
      for (const info of yield* first.sessions) yield* info.session.abort
      yield* Scope.close(firstScope, Exit.void)
      // The SMSC comes back on the same port.
      const second = yield* SmppServer.make({ host: HOST, port, authenticate: accounts, handlers: handlers("b") })
      const exits = yield* submits.await.pipe(Effect.flatten)
      assert.strictEqual(exits.length, total)
      const ids: Array<string> = []
      let failures = 0
      for (const exit of exits) {
        if (Exit.isSuccess(exit)) ids.push(exit.value.messageIds[0]!)
        else {
          failures++
          // Only typed failures: no defect, no interruption.
          assert.isTrue(exit.cause._tag === "Fail", String(exit.cause))
        }
      }
      assert.strictEqual(new Set(ids).size, ids.length)
      assert.strictEqual(ids.length + failures, total)
      assert.isTrue(ids.some((id) => id.startsWith("a")) && ids.some((id) => id.startsWith("b")))
      assert.includeMembers(states, ["Bound", "Disconnected", "Connecting"])
      assert.strictEqual((yield* client.state)._tag, "Bound")
      assert.strictEqual((yield* second.sessions).length, 1)
    }).pipe(Effect.scoped, Effect.timeout("30 seconds")), 40_000)

  it.live("TLS with a self-signed certificate", () =>
    Effect.gen(function*() {
      const { cert, key } = certificate()
      const server = yield* numberingServer("tls-", { tls: { key, cert } })
      const port = server.address!.port
      const client = yield* clientOf(port, { tls: { ca: cert, servername: "localhost" } })
      const { messageIds } = yield* client.submit({ from: "me", to: "+49123", text: "over TLS" })
      assert.deepStrictEqual(messageIds, ["tls-1"])
      // Without the certificate as CA, the handshake fails: TLS is really there.
      const untrusting = yield* clientOf(port, {
        tls: true,
        reconnect: Schedule.recurs(0),
        requestTimeout: "5 seconds"
      })
      const stopped = yield* untrusting.stateChanges.pipe(Stream.filter((s) => s._tag === "Stopped"), Stream.runHead)
      const state = stopped._tag === "Some" ? stopped.value : undefined
      assert.strictEqual(state?._tag === "Stopped" ? state.error?.reason : undefined, "ConnectFailed")
      // And a plain TCP client does not get a bind through.
      const plain = yield* clientOf(port, {
        reconnect: Schedule.recurs(0),
        session: { responseTimeout: "1 second" }
      })
      const plainEnd = yield* plain.stateChanges.pipe(Stream.filter((s) => s._tag === "Stopped"), Stream.runHead)
      const plainState = plainEnd._tag === "Some" ? plainEnd.value : undefined
      assert.strictEqual(plainState?._tag === "Stopped" ? plainState.error?.reason : undefined, "BindFailed")
    }).pipe(Effect.scoped, Effect.timeout("20 seconds")))

  it.live("outbind over TCP: the client listens, the server connects, the client binds as a receiver", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const received = yield* Queue.unbounded<SmppClient.Delivery>()
      const client = yield* SmppClient.make({
        systemId: "alice",
        password: "secret",
        outbind: { host: HOST, port: 0 },
        onDelivery: (d) => Queue.offer(received, d)
      })
      const address = client.outbindAddress!
      const info = yield* server.outbind({ host: address.host, port: address.port, systemId: "smsc", password: "pw" })
      assert.deepStrictEqual([info.kind, info.systemId], ["receiver", "alice"])
      yield* server.deliver("alice", Pdu.make("deliver_sm", { sourceAddr: "1", destinationAddr: "2", shortMessage: text("ob") }))
      const delivery = yield* Queue.take(received)
      assert.strictEqual(delivery._tag === "MoMessage" ? delivery.text : "", "ob")
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))
})
