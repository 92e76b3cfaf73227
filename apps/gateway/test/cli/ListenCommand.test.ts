/**
 * `smpp listen` in process against our SmppServer on 127.0.0.1 (port 0): it prints what the
 * server pushes, acknowledges it, and unbinds when interrupted. Bounded; closes what it opens.
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Pdu from "@effect-smpp/schema/Pdu"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as SmppServer from "@effect-smpp/runtime/SmppServer"
import { idOf, receiptPdu, smpp, smppRun, smsc, SYSTEM_ID, target, text } from "./fixtures.js"

const mo = (message: string) =>
  Pdu.make("deliver_sm", {
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: "4912345678",
    destinationAddr: "Shop",
    shortMessage: text(message)
  })

/** Waits until alice has a bound session, and answers its kind. */
const boundKind = (server: SmppServer.SmppServer) =>
  Effect.gen(function*() {
    while (true) {
      const [info] = yield* server.sessionsOf(SYSTEM_ID)
      if (info !== undefined) return info.kind
      yield* Effect.sleep("10 millis")
    }
  })

describe("smpp listen", () => {
  it.live("binds as receiver, prints an MO and a receipt as they come, acknowledges them, unbinds on interrupt", () =>
    Effect.gen(function*() {
      const { port, server } = yield* smsc()
      const events = yield* server.subscribe
      const { captured, run } = yield* smppRun(["listen", ...target(port)])
      const fiber = yield* Effect.fork(run)
      assert.strictEqual(yield* boundKind(server), "receiver")

      const moResponse = yield* server.deliver(SYSTEM_ID, mo("Hello back"))
      assert.strictEqual(moResponse.commandStatus, CommandStatus.ESME_ROK)
      const receiptResponse = yield* server.deliver(SYSTEM_ID, receiptPdu(idOf(7), "DELIVERED"))
      assert.strictEqual(receiptResponse.commandStatus, CommandStatus.ESME_ROK)
      // each line is printed before its deliver_sm_resp leaves
      assert.strictEqual(captured.stdout.length, 2)
      assert.match(captured.stdout[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z MO from \+4912345678 to Shop: "Hello back"$/)
      assert.match(captured.stdout[1]!, new RegExp(`Z DLR ${idOf(7)} DELIVRD err:000 from \\+4912345678 to Shop$`))
      assert.include(captured.stderr.join("\n"), "bound as receiver")

      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      // the client unbound: the server saw the peer's unbind
      while (true) {
        const event = yield* events.take
        if (event._tag === "Closed") {
          assert.strictEqual(event.reason.reason, "PeerUnbound")
          break
        }
      }
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("--json prints one JSON object per line", () =>
    Effect.gen(function*() {
      const { port, server } = yield* smsc()
      const { captured, run } = yield* smppRun(["listen", ...target(port), "--json"])
      const fiber = yield* Effect.fork(run)
      yield* boundKind(server)
      yield* server.deliver(SYSTEM_ID, mo("line one\nline two"))
      yield* server.deliver(SYSTEM_ID, receiptPdu(idOf(3), "UNDELIVERABLE"))
      yield* Fiber.interrupt(fiber)
      const [first, second] = captured.stdout.map((line) => JSON.parse(line))
      assert.strictEqual(captured.stdout.length, 2)
      assert.deepInclude(first, {
        type: "mo",
        from: { addr: "4912345678", ton: 1, npi: 1 },
        to: { addr: "Shop", ton: 0, npi: 0 },
        text: "line one\nline two",
        dataCoding: 0,
        parts: 1
      })
      assert.deepInclude(second, {
        type: "receipt",
        messageId: idOf(3),
        stat: "UNDELIV",
        state: "UNDELIVERABLE",
        err: "012",
        text: "hello"
      })
      assert.isString(first.time)
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("a concatenated MO is printed once, reassembled", () =>
    Effect.gen(function*() {
      const { port, server } = yield* smsc()
      const { captured, run } = yield* smppRun(["listen", ...target(port)])
      const fiber = yield* Effect.fork(run)
      yield* boundKind(server)
      const part = (seq: number, body: string) =>
        Pdu.make("deliver_sm", {
          sourceAddr: "4912345678",
          destinationAddr: "Shop",
          esmClass: 0x40,
          shortMessage: new Uint8Array([5, 0, 3, 0x2a, 2, seq, ...text(body)])
        })
      yield* server.deliver(SYSTEM_ID, part(1, "first half, "))
      yield* server.deliver(SYSTEM_ID, part(2, "second half"))
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(captured.stdout.map((line) => line.replace(/^\S+ /, "")), [
        `MO from 4912345678 to Shop: "first half, second half" (2 parts)`
      ])
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("a refused first bind exits with failure", () =>
    Effect.gen(function*() {
      const { port } = yield* smsc()
      const { exit, stderr } = yield* smpp(["listen", ...target(port, "wrong")])
      assert.isTrue(Exit.isFailure(exit))
      assert.include(stderr, "smpp listen:")
      assert.include(stderr, "ESME_RINVPASWD")
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))
})
