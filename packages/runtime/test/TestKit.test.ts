import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { SmppClient } from "../src/SmppClient.js"
import type * as SmppClientModule from "../src/SmppClient.js"
import * as TestKit from "../src/TestKit.js"

/** A service of the application under test: sends an order confirmation, returns its ids. */
const confirmOrder = (order: number) =>
  Effect.flatMap(SmppClient, (client) =>
    client.submit({ from: "Shop", to: "+4912345678", text: `Order ${order} confirmed`, registeredDelivery: true }))

describe("TestKit", () => {
  it.scoped("provides a client bound to a scripted SMSC", () =>
    Effect.gen(function*() {
      const { messageIds } = yield* confirmOrder(7)
      assert.deepStrictEqual(messageIds, ["MSG-0001"])
      const smsc = yield* TestKit.Smsc
      const [submitted] = yield* smsc.submitted
      assert.deepStrictEqual([submitted!.messageId, submitted!.status, submitted!.pdu.destinationAddr], [
        "MSG-0001",
        CommandStatus.ESME_ROK,
        "4912345678"
      ])
      const sessions = yield* smsc.server.sessions
      assert.deepStrictEqual(sessions.map((s) => [s.systemId, s.kind]), [["shop", "transceiver"]])
    }).pipe(
      Effect.provide(TestKit.smsc({ systemId: "shop", password: "pw", messageId: (n) => `MSG-${String(n).padStart(4, "0")}` }))
    ))

  it.scoped("pushes receipts after the scripted delay, on the TestClock", () =>
    Effect.gen(function*() {
      const client = yield* SmppClient
      const receipts = yield* Queue.unbounded<SmppClientModule.Delivery>()
      yield* Effect.forkScoped(client.handleDeliveries((d) => Queue.offer(receipts, d)))
      yield* Effect.yieldNow()
      const { messageIds } = yield* confirmOrder(1)
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual(yield* Queue.size(receipts), 0)
      const before = yield* client.querySm(Pdu.make("query_sm", { messageId: messageIds[0]! }))
      assert.strictEqual(before.messageState, MessageState.ENROUTE)
      yield* TestClock.adjust("1 second")
      const receipt = yield* Queue.take(receipts)
      assert.deepStrictEqual(receipt._tag === "Receipt" ? [receipt.messageId, receipt.state] : [], [
        messageIds[0],
        MessageState.DELIVERED
      ])
      const after = yield* client.querySm(Pdu.make("query_sm", { messageId: messageIds[0]! }))
      assert.strictEqual(after.messageState, MessageState.DELIVERED)
      // No receipt unless asked for.
      yield* client.submit({ from: "Shop", to: "+49", text: "no receipt" })
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* Queue.size(receipts), 0)
    }).pipe(Effect.provide(TestKit.smsc({ receipts: { delay: "5 seconds" } }))))

  it.scoped("throttles and drops as scripted", () =>
    Effect.gen(function*() {
      const smsc = yield* TestKit.Smsc
      yield* smsc.throttle(1)
      yield* smsc.dropResponses(1)
      const fiber = yield* Effect.fork(confirmOrder(2))
      // Throttled, retried after ~1 s; dropped, retried after the 5 s timeout and ~2 s.
      for (let i = 0; i < 40 && fiber.unsafePoll() === null; i++) yield* TestClock.adjust("500 millis")
      const { messageIds } = yield* Fiber.join(fiber)
      assert.deepStrictEqual(messageIds, ["1"])
      assert.deepStrictEqual((yield* smsc.submitted).map((s) => s.status), [CommandStatus.ESME_RTHROTTLED, undefined, 0])
    }).pipe(Effect.provide(TestKit.smsc({ client: { session: { responseTimeout: "5 seconds" } } }))))

  it.scoped("injects MO messages into the client's deliveries", () =>
    Effect.gen(function*() {
      const client = yield* SmppClient
      const smsc = yield* TestKit.Smsc
      const fiber = yield* Effect.fork(Stream.runCollect(Stream.take(client.deliveries, 2)))
      yield* Effect.yieldNow()
      yield* smsc.injectMo({ from: "4917000", to: "Shop", text: "STOP" })
      yield* smsc.injectMo({ from: "4917000", to: "Shop", text: "Ünïcödé ✓ ".repeat(12) })
      const texts = Array.from(yield* Fiber.join(fiber)).map((d) => (d._tag === "MoMessage" ? d.text : d._tag))
      assert.deepStrictEqual(texts, ["STOP", "Ünïcödé ✓ ".repeat(12)])
    }).pipe(Effect.provide(TestKit.smsc({ maxChunkSize: 5 }))))

  it.scoped("disconnect and unreachability drive the client's reconnects", () =>
    Effect.gen(function*() {
      const client = yield* SmppClient
      const smsc = yield* TestKit.Smsc
      yield* client.awaitBound
      yield* smsc.setReachable(false)
      yield* smsc.disconnect
      yield* client.stateChanges.pipe(Stream.filter((s) => s._tag === "Disconnected"), Stream.runHead)
      // Unreachable: every 2 s an attempt fails.
      yield* TestClock.adjust("6 seconds")
      assert.strictEqual(yield* smsc.connections, 1)
      const state = yield* client.state
      assert.isTrue(state._tag === "Disconnected" || state._tag === "Connecting")
      yield* smsc.setReachable(true)
      yield* TestClock.adjust("2 seconds")
      yield* client.awaitBound
      assert.strictEqual(yield* smsc.connections, 2)
    }).pipe(Effect.provide(TestKit.smsc({ client: { reconnect: Schedule.spaced("2 seconds") } }))))

  it.scoped("keepalives run on the TestClock: an idle client stays bound", () =>
    Effect.gen(function*() {
      const client = yield* SmppClient
      yield* client.awaitBound
      yield* TestClock.adjust("3 minutes")
      const state = yield* client.state
      assert.strictEqual(state._tag, "Bound")
      const session = Option.getOrThrow(yield* client.session)
      const stats = yield* session.stats
      // Every 30 s idle one side or the other asks; each one answered.
      assert.isAtLeast(stats.enquireLinksSent, 2)
      assert.strictEqual(stats.responseTimeouts, 0)
    }).pipe(Effect.provide(TestKit.smsc())))

  it.scoped("sessionPair: two sessions in memory", () =>
    Effect.gen(function*() {
      const { esme, smsc } = yield* TestKit.sessionPair({
        smsc: {
          handler: (request) =>
            Effect.succeed(
              request._tag === "bind_transceiver"
                ? Pdu.make("bind_transceiver_resp", { systemId: "pair" })
                : CommandStatus.ESME_RINVCMDID
            )
        },
        maxChunkSize: 3
      })
      const response = yield* esme.request(Pdu.make("bind_transceiver", { systemId: "x", password: "y" }))
      assert.deepStrictEqual([response.systemId, yield* esme.state, yield* smsc.state], ["pair", "BOUND_TRX", "BOUND_TRX"])
    }))
})
