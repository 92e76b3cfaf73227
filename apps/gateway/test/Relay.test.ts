/**
 * Relay end to end over real sockets on 127.0.0.1: gateway A routes to gateway B (both ours)
 * through an `UpstreamSmpp` connector; the customer (node-smpp) is bound to A only.
 */
import { assert, describe, it } from "@effect/vitest"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { MessageStore } from "../src/MessageStore.js"
import * as Esme from "./fixtures/esme.js"
import { eventually, start } from "./fixtures/gateway.js"

const submit = (fields: Record<string, unknown>) => Esme.submitSmFields({ short_message: "relayed", ...fields })

const upstream = (port: number, overrides?: Record<string, unknown>) => ({
  upstreams: [{
    name: "b",
    host: "127.0.0.1",
    port,
    systemId: "demo",
    password: "demo",
    requestTimeout: "2 seconds",
    moAccount: "demo",
    ...overrides
  }],
  routes: [{ prefix: "49", connector: "b" }]
})

describe("Relay (gateway A → gateway B)", () => {
  it.scopedLive("a message submitted on A reaches B, and B's receipt comes back on A with A's id", () =>
    Effect.gen(function*() {
      const b = yield* start()
      const a = yield* start(upstream(b.port))
      // B's ids run ahead of A's, so that a receipt under B's id would show
      const direct = yield* Esme.bound(b.port)
      for (let i = 0; i < 3; i++) yield* Esme.call(direct, "submit_sm", submit({ destination_addr: "3312345" }))
      const esme = yield* Esme.bound(a.port)
      const response = yield* Esme.call(esme, "submit_sm", submit({ registered_delivery: 1 }))
      assert.strictEqual(response.command_status, CommandStatus.ESME_ROK)
      const id = response.message_id as string

      // A recorded B's id for it, and B has the message
      const storeA = Context.get(a.context, MessageStore)
      const storeB = Context.get(b.context, MessageStore)
      const upstreamId = yield* eventually(Effect.flatMap(storeA.findById(id), (message) =>
        Option.isSome(message) && message.value.upstreamId !== null
          ? Effect.succeed(message.value.upstreamId)
          : Effect.fail("not yet")))
      assert.strictEqual(Option.getOrThrow(yield* storeA.findById(id)).connector, "b")
      const atB = Option.getOrThrow(yield* storeB.findById(upstreamId))
      assert.strictEqual(atB.destinationAddr, "491701234567")
      assert.strictEqual(atB.sourceAddr, "Acme")
      assert.strictEqual(new TextDecoder().decode(atB.body), "relayed")
      assert.strictEqual(atB.registeredDelivery, 1)

      yield* Esme.until(esme, () => esme.received.some((pdu) => Esme.receiptedId(pdu) === id), "the receipt on A")
      const receipt = esme.received.find((pdu) => Esme.receiptedId(pdu) === id)!
      assert.strictEqual(receipt.esm_class, 0x04)
      assert.strictEqual(receipt.message_state, MessageState.DELIVERED)
      assert.include(Esme.textOf(receipt), `id:${id} sub:001 dlvrd:001`)
      assert.include(Esme.textOf(receipt), "stat:DELIVRD")
      assert.notStrictEqual(id, upstreamId)

      // B's receipt to A was acknowledged once A had committed the outcome
      yield* eventually(Effect.flatMap(storeB.findById(upstreamId), (message) =>
        Option.isSome(message) && message.value.receipt === "delivered" ? Effect.void : Effect.fail("not yet")))
      assert.strictEqual(Option.getOrThrow(yield* storeA.findById(id)).state, MessageState.DELIVERED)
    }))

  it.scopedLive("B's UNDELIV outcome comes back as an UNDELIV receipt with A's id", () =>
    Effect.gen(function*() {
      const b = yield* start({
        simulator: { defaultDelay: "50 millis", rules: [{ prefix: "4915", outcome: "UNDELIV", errorCode: 42 }] }
      })
      const a = yield* start(upstream(b.port))
      const esme = yield* Esme.bound(a.port)
      const response = yield* Esme.call(esme, "submit_sm", submit({ destination_addr: "4915123", registered_delivery: 1 }))
      assert.strictEqual(response.command_status, CommandStatus.ESME_ROK)
      const id = response.message_id as string
      yield* Esme.until(esme, () => esme.received.some((pdu) => Esme.receiptedId(pdu) === id), "the receipt on A")
      const receipt = esme.received.find((pdu) => Esme.receiptedId(pdu) === id)!
      assert.strictEqual(receipt.message_state, MessageState.UNDELIVERABLE)
      assert.include(Esme.textOf(receipt), "stat:UNDELIV err:042")
    }))

  it.scopedLive("B throttling: the customer on A gets ESME_RTHROTTLED", () =>
    Effect.gen(function*() {
      const b = yield* start({ accounts: [{ systemId: "demo", password: "demo", maxThroughput: 1, burst: 1 }] })
      const a = yield* start(upstream(b.port))
      const esme = yield* Esme.bound(a.port)
      const responses = yield* Effect.forEach(
        [0, 1, 2, 3, 4],
        (i) => Esme.call(esme, "submit_sm", submit({ destination_addr: `4917000000${i}` })),
        { concurrency: "unbounded" }
      )
      const statuses = responses.map((r) => r.command_status)
      assert.include(statuses, CommandStatus.ESME_RTHROTTLED, statuses.join(","))
      assert.isAtMost(statuses.filter((s) => s === CommandStatus.ESME_ROK).length, 2, statuses.join(","))
    }))

  it.scopedLive("a wrong upstream password: the connector never binds and the customer gets ESME_RSUBMITFAIL", () =>
    Effect.gen(function*() {
      const b = yield* start()
      const a = yield* start(upstream(b.port, { password: "wrong", requestTimeout: "500 millis" }))
      const esme = yield* Esme.bound(a.port)
      const response = yield* Esme.call(esme, "submit_sm", submit({ registered_delivery: 1 }))
      assert.strictEqual(response.command_status, CommandStatus.ESME_RSUBMITFAIL)
    }))

  it.scopedLive("an MO from B (its echo) reaches the upstream's moAccount on A", () =>
    Effect.gen(function*() {
      const b = yield* start({ simulator: { defaultDelay: "50 millis", echo: { prefix: "4999", delay: "50 millis" } } })
      const a = yield* start(upstream(b.port))
      const esme = yield* Esme.bound(a.port)
      const response = yield* Esme.call(esme, "submit_sm", submit({ destination_addr: "4999123" }))
      assert.strictEqual(response.command_status, CommandStatus.ESME_ROK)
      yield* Esme.until(
        esme,
        () => esme.received.some((pdu) => (Number(pdu.esm_class) & 0x04) === 0 && Esme.textOf(pdu) === "relayed"),
        "the MO on A"
      )
      const mo = esme.received.find((pdu) => (Number(pdu.esm_class) & 0x04) === 0 && Esme.textOf(pdu) === "relayed")!
      assert.strictEqual(mo.source_addr, "4999123")
      assert.strictEqual(mo.destination_addr, "Acme")
    }))
}, 60_000)
