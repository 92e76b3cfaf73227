import { assert, describe, it } from "@effect/vitest"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Deliverer from "../src/Deliverer.js"
import { DeliveryQueue } from "../src/DeliveryQueue.js"
import { MessageStore } from "../src/MessageStore.js"
import { Outcomes } from "../src/Outcomes.js"
import { Submissions } from "../src/Submissions.js"
import { esme, settle, stack, submitSm } from "./fixtures/stack.js"

/** Moves the TestClock in steps of `step` ms up to `total` ms, letting the fibers run at each. */
const advance = (total: number, step = 100) =>
  Effect.gen(function*() {
    for (let t = 0; t < total; t += step) {
      yield* TestClock.adjust(step)
      yield* settle(Effect.void, 5)
    }
  })

const mo = (text: string) => ({
  _tag: "Mo" as const,
  connector: "simulator",
  account: "demo",
  serviceType: "",
  sourceAddrTon: 1,
  sourceAddrNpi: 1,
  sourceAddr: "491701234567",
  destAddrTon: 0,
  destAddrNpi: 0,
  destinationAddr: "1234",
  esmClass: 0,
  dataCoding: 0,
  body: new TextEncoder().encode(text),
  receivedAt: 0
})

describe("Deliverer", () => {
  it.scoped("re-sends an unacknowledged receipt on the queue's schedule until ESME_ROK", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions
      const queue = yield* DeliveryQueue
      const store = yield* MessageStore
      // no answer (timed out after 5 s), then ESME_RX_T_APPN, then ESME_ROK
      const customer = yield* esme({ answers: ["none", CommandStatus.ESME_RX_T_APPN] })
      const { message } = yield* submissions.submit("demo", submitSm({ registeredDelivery: 1 }))

      yield* advance(12_000)
      const attempts = customer.received.map((r) => r.at)
      assert.strictEqual(attempts.length, 3, attempts.join(","))
      for (const { pdu } of customer.received) assert.strictEqual(pdu.tlvs.receiptedMessageId, message.id)
      // the receipt is queued when the simulator's outcome comes (1 s)
      assert.isAtLeast(attempts[0], 1000)
      assert.isAtMost(attempts[0], 1100)
      // timeout (5 s, checked at the session's timer resolution), then the first retry delay (1 s)
      assert.isAtLeast(attempts[1] - attempts[0], 6000)
      assert.isAtMost(attempts[1] - attempts[0], 7200)
      // ESME_RX_T_APPN, then the second retry delay (2 s)
      assert.isAtLeast(attempts[2] - attempts[1], 2000)
      assert.isAtMost(attempts[2] - attempts[1], 2200)

      yield* settle(Effect.filterOrFail(queue.size(), (n) => n === 0))
      yield* settle(Effect.filterOrFail(
        store.findById(message.id),
        (m) => Option.isSome(m) && m.value.receipt === "delivered"
      ))
    }).pipe(Effect.provide(stack({ deliverer: { timeout: "5 seconds" } }))))

  it.scoped("drops a receipt never acknowledged within its TTL, and stops sending it", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions
      const queue = yield* DeliveryQueue
      const store = yield* MessageStore
      const customer = yield* esme({ answers: Array.from({ length: 100 }, () => CommandStatus.ESME_RX_T_APPN) })
      const { message } = yield* submissions.submit("demo", submitSm({ registeredDelivery: 1 }))

      yield* advance(60_000, 250)
      assert.isAtLeast(customer.received.length, 10)
      assert.strictEqual(yield* queue.size(), 1)
      // queued at 1 s, TTL 1 minute, swept every 10 s
      yield* advance(15_000, 250)
      yield* settle(Effect.filterOrFail(queue.size(), (n) => n === 0))
      const expired = Option.getOrThrow(yield* store.findById(message.id))
      assert.strictEqual(expired.receipt, "expired")
      const sent = customer.received.length
      assert.isAtMost(customer.received[sent - 1].at, 61_000)
      yield* advance(30_000, 1000)
      assert.strictEqual(customer.received.length, sent)
    }).pipe(Effect.provide(stack({ queue: { ttl: "1 minute", sweepInterval: "10 seconds" } }))))

  it.scoped("keeps items until a receiver binds, then delivers them round robin over its receiver sessions", () =>
    Effect.gen(function*() {
      const outcomes = yield* Outcomes
      const queue = yield* DeliveryQueue
      const deliverer = yield* Deliverer.Deliverer
      const textsOf = (received: ReadonlyArray<{ readonly pdu: Pdu.DeliverSm | Pdu.DataSm }>) =>
        received.map((r) => new TextDecoder().decode((r.pdu as Pdu.DeliverSm).shortMessage)).sort()
      for (let i = 0; i < 2; i++) yield* outcomes.mo(mo(`early ${i}`))
      yield* advance(2_000)
      assert.strictEqual(yield* queue.size("demo"), 2)
      assert.deepStrictEqual(deliverer.active(), [])

      // a transmitter gets nothing
      const transmitter = yield* esme({ kind: "bind_transmitter" })
      yield* advance(1_000)
      assert.strictEqual(yield* queue.size("demo"), 2)
      assert.deepStrictEqual(deliverer.active(), [])

      const one = yield* esme({ kind: "bind_receiver" })
      yield* advance(500)
      assert.deepStrictEqual(textsOf(one.received), ["early 0", "early 1"])
      yield* settle(Effect.filterOrFail(queue.size("demo"), (n) => n === 0))
      assert.deepStrictEqual(deliverer.active(), ["demo"])

      const two = yield* esme({ kind: "bind_transceiver" })
      for (let i = 0; i < 6; i++) yield* outcomes.mo(mo(`late ${i}`))
      yield* advance(500)
      yield* settle(Effect.filterOrFail(queue.size("demo"), (n) => n === 0))
      const late = [...textsOf(one.received), ...textsOf(two.received)].filter((t) => t.startsWith("late"))
      assert.deepStrictEqual(late.sort(), ["late 0", "late 1", "late 2", "late 3", "late 4", "late 5"])
      assert.isAtLeast(two.received.length, 2)
      assert.isAtLeast(one.received.length, 4)
      assert.strictEqual(transmitter.received.length, 0)
    }).pipe(Effect.provide(stack({ deliverer: { timeout: "5 seconds" } }))))

  it.scoped("receipts beyond a worker's backlog stay queued and are taken: each delivered once", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions
      const queue = yield* DeliveryQueue
      const customer = yield* esme({ kind: "bind_transceiver" })
      const ids: Array<string> = []
      for (let i = 0; i < 12; i++) {
        ids.push((yield* submissions.submit("demo", submitSm({ registeredDelivery: 1 }))).message.id)
      }
      // the outcomes come in one chunk: 3 handed over (the backlog), 9 left for `take`
      yield* advance(1_500)
      yield* settle(Effect.filterOrFail(queue.size("demo"), (n) => n === 0 && customer.received.length >= 12))
      const receipted = customer.received.map((r) => (r.pdu as Pdu.DeliverSm).tlvs.receiptedMessageId)
      assert.deepStrictEqual([...receipted].sort(), [...ids].sort())
    }).pipe(Effect.provide(stack({ deliverer: { maxInFlight: 2, backlog: 3 } }))))

  it.scoped("sends data_sm to the accounts that ask for it", () =>
    Effect.gen(function*() {
      const outcomes = yield* Outcomes
      const customer = yield* esme()
      yield* outcomes.mo(mo("as data_sm"))
      yield* advance(500)
      assert.strictEqual(customer.received.length, 1)
      const pdu = customer.received[0].pdu
      assert.strictEqual(pdu._tag, "data_sm")
      assert.strictEqual(new TextDecoder().decode(pdu.tlvs.messagePayload), "as data_sm")
    }).pipe(Effect.provide(stack({ deliverer: { dataSm: ["demo"] } }))))

  it("toDataSm moves the body into message_payload", () => {
    const data = Deliverer.toDataSm(Pdu.make("deliver_sm", {
      sourceAddr: "1",
      destinationAddr: "2",
      esmClass: 0x04,
      shortMessage: new Uint8Array([1, 2]),
      tlvs: { receiptedMessageId: "7" }
    }))
    assert.strictEqual(data._tag, "data_sm")
    assert.strictEqual(data.esmClass, 0x04)
    assert.deepStrictEqual(data.tlvs, { receiptedMessageId: "7", messagePayload: new Uint8Array([1, 2]) })
  })
})
