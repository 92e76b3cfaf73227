import { assert, describe, it } from "@effect/vitest"
import * as DeliveryReceipt from "@effect-smpp/schema/DeliveryReceipt"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as SmppTime from "@effect-smpp/schema/SmppTime"
import * as Text from "@effect-smpp/schema/Text"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { DeliveryQueue } from "../src/DeliveryQueue.js"
import { type Message, MessageStore } from "../src/MessageStore.js"
import * as Outcomes from "../src/Outcomes.js"
import { Submissions } from "../src/Submissions.js"
import { storedMessage } from "./fixtures/messages.js"
import { settle, stack, submitSm } from "./fixtures/stack.js"

const message = (fields: Partial<Message>): Message =>
  storedMessage({
    id: "000000000000002a",
    account: "demo",
    body: new TextEncoder().encode("Hello there, this is a long text"),
    state: MessageState.DELIVERED,
    createdAt: Date.UTC(2024, 0, 2, 3, 4, 5),
    updatedAt: Date.UTC(2024, 0, 2, 3, 5, 0),
    doneAt: Date.UTC(2024, 0, 2, 3, 5, 0),
    ...fields
  })

const textOf = (pdu: { readonly shortMessage: Uint8Array }) => Text.decode(pdu.shortMessage, 0)

describe("Outcomes", () => {
  it("wantsReceipt follows registered_delivery bits 1–0", () => {
    const { DELIVERED, UNDELIVERABLE, EXPIRED, DELETED, ENROUTE } = MessageState
    assert.isTrue(Outcomes.wantsReceipt(1, DELIVERED))
    assert.isTrue(Outcomes.wantsReceipt(1, UNDELIVERABLE))
    assert.isFalse(Outcomes.wantsReceipt(2, DELIVERED))
    assert.isTrue(Outcomes.wantsReceipt(2, EXPIRED))
    assert.isFalse(Outcomes.wantsReceipt(0, UNDELIVERABLE))
    // bits above 1–0 (SME acks, intermediate notifications) do not change it
    assert.isTrue(Outcomes.wantsReceipt(0x11, DELIVERED))
    assert.isFalse(Outcomes.wantsReceipt(1, DELETED))
    assert.isFalse(Outcomes.wantsReceipt(1, ENROUTE))
  })

  it("formats the receipt exactly, and carries the id in the TLVs", () => {
    const fields = Outcomes.receiptFields(message({ state: MessageState.UNDELIVERABLE, errorCode: 42 }))
    assert.strictEqual(
      textOf({ shortMessage: fields.shortMessage! }),
      "id:000000000000002a sub:001 dlvrd:000 submit date:2401020304 done date:2401020305 stat:UNDELIV err:042 text:Hello there, this is"
    )
    assert.strictEqual(fields.esmClass, 0x04)
    assert.strictEqual(fields.sourceAddr, "491701234567")
    assert.strictEqual(fields.destinationAddr, "Acme")
    assert.deepStrictEqual(fields.tlvs, { receiptedMessageId: "000000000000002a", messageState: MessageState.UNDELIVERABLE })
    const parsed = Either.getOrThrow(DeliveryReceipt.parse(textOf({ shortMessage: fields.shortMessage! })))
    assert.strictEqual(parsed.id, "000000000000002a")
    assert.strictEqual(parsed.messageState, MessageState.UNDELIVERABLE)
  })

  it("writes the text of a UCS-2 message it cannot carry in the default alphabet as letters and digits", () => {
    const fields = Outcomes.receiptFields(message({ dataCoding: 8, body: Text.encodeUcs2("Grüße 😀 ok") }))
    assert.include(textOf({ shortMessage: fields.shortMessage! }), "text:Gr??e ?? ok")
    const binary = Outcomes.receiptFields(message({ dataCoding: 4, body: new Uint8Array([1, 2, 3]) }))
    assert.isTrue(textOf({ shortMessage: binary.shortMessage! }).endsWith("text:"))
  })

  it.scoped("turns the simulator's outcomes into receipts after each rule's delay, as registered_delivery asks", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions
      const queue = yield* DeliveryQueue
      const store = yield* MessageStore
      const delivered = yield* submissions.submit("demo", submitSm({ destinationAddr: "4917001", registeredDelivery: 1 }))
      const failed = yield* submissions.submit("demo", submitSm({ destinationAddr: "4915001", registeredDelivery: 1 }))
      const deliveredQuiet = yield* submissions.submit("demo", submitSm({ destinationAddr: "4917002", registeredDelivery: 2 }))
      const failedLoud = yield* submissions.submit("demo", submitSm({ destinationAddr: "4915002", registeredDelivery: 2 }))

      yield* TestClock.adjust("1999 millis")
      yield* settle(Effect.void)
      assert.strictEqual(yield* queue.size("demo"), 0)
      yield* TestClock.adjust("1 millis")
      yield* settle(Effect.filterOrFail(queue.size("demo"), (n) => n === 1))
      const [first] = yield* queue.take("demo")
      assert.strictEqual(first.messageId, delivered.message.id)
      assert.include(textOf(first.pdu), `id:${delivered.message.id} sub:001 dlvrd:001`)
      assert.include(textOf(first.pdu), "stat:DELIVRD err:000")
      // failure-only: a delivered message gets no receipt, but its state is recorded
      yield* settle(Effect.filterOrFail(
        store.findById(deliveredQuiet.message.id),
        (m) => Option.isSome(m) && m.value.state === MessageState.DELIVERED
      ))

      yield* TestClock.adjust("8 seconds")
      yield* settle(Effect.filterOrFail(queue.size("demo"), (n) => n === 3))
      const failures = yield* queue.take("demo")
      assert.deepStrictEqual(failures.map((item) => item.messageId).sort(), [failed.message.id, failedLoud.message.id].sort())
      for (const item of failures) {
        assert.include(textOf(item.pdu), "dlvrd:000")
        assert.include(textOf(item.pdu), "stat:UNDELIV err:042")
        assert.strictEqual(item.pdu.tlvs.messageState, MessageState.UNDELIVERABLE)
      }
      const stored = Option.getOrThrow(yield* store.findById(failed.message.id))
      assert.strictEqual(stored.state, MessageState.UNDELIVERABLE)
      assert.strictEqual(stored.errorCode, 42)
      assert.strictEqual(stored.doneAt, 10_000)
      assert.strictEqual(stored.receipt, "queued")
    }).pipe(Effect.provide(stack({
      config: {
        simulator: {
          defaultDelay: "2 seconds",
          rules: [{ prefix: "4915", outcome: "UNDELIV", delay: "10 seconds", errorCode: 42 }]
        }
      }
    }))))

  it.scoped("expires a message at the end of its validity period, with an EXPIRED receipt, once", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions
      const queue = yield* DeliveryQueue
      const store = yield* MessageStore
      const at = (millis: number) => SmppTime.format(SmppTime.fromEpochMillis(millis))
      // scheduled for later than it is valid: never sent
      const scheduled = yield* submissions.submit("demo", submitSm({
        registeredDelivery: 1,
        scheduleDeliveryTime: at(3_600_000),
        validityPeriod: at(600_000)
      }))
      // sent, but the simulator's delay (1 hour) is longer than its validity
      const slow = yield* submissions.submit("demo", submitSm({ registeredDelivery: 1, validityPeriod: at(300_000) }))

      yield* TestClock.adjust("299 seconds")
      yield* settle(Effect.void)
      assert.strictEqual(yield* queue.size("demo"), 0)
      yield* TestClock.adjust("10 seconds")
      yield* settle(Effect.filterOrFail(queue.size("demo"), (n) => n === 1))
      yield* TestClock.adjust("300 seconds")
      yield* settle(Effect.filterOrFail(queue.size("demo"), (n) => n === 2))
      const receipts = yield* queue.take("demo")
      assert.deepStrictEqual(receipts.map((r) => r.messageId), [slow.message.id, scheduled.message.id])
      for (const receipt of receipts) assert.include(textOf(receipt.pdu), "stat:EXPIRED")
      const expired = Option.getOrThrow(yield* store.findById(scheduled.message.id))
      assert.strictEqual(expired.state, MessageState.EXPIRED)
      assert.strictEqual(expired.doneAt, 600_000)

      // its schedule comes: not dispatched, no second receipt
      yield* TestClock.adjust("1 hour")
      yield* settle(Effect.void)
      assert.strictEqual(yield* queue.size("demo"), 2)
      assert.isNull(Option.getOrThrow(yield* store.findById(scheduled.message.id)).connector)
    }).pipe(Effect.provide(stack({
      config: { simulator: { defaultDelay: "1 hour" } },
      outcomes: { expiryInterval: "10 seconds" }
    }))))
})
