import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Resend from "@effect-smpp/runtime/Resend"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../src/Database.js"
import * as DeliveryQueue from "../src/DeliveryQueue.js"
import * as MessageStore from "../src/MessageStore.js"
import { newMessage } from "./fixtures/messages.js"

// 1 s, 2 s, 4 s, then 4 s: exponential capped, without jitter so times can be asserted
const capped = Schedule.exponential("1 second").pipe(
  Schedule.union(Schedule.spaced("4 seconds")),
  Schedule.whileInput((outcome: Resend.Outcome) => Resend.classifyDelivery(outcome) === "retry")
)

const stack = (filename: string, options?: DeliveryQueue.Options) =>
  Layer.mergeAll(MessageStore.layer(), DeliveryQueue.layer({ retry: capped, ...options })).pipe(
    Layer.provide(Database.layerSqlite({ filename }))
  )

// the stack and its SqlClient, for tests that open transactions themselves
const stackWithSql = Layer.mergeAll(MessageStore.layer(), DeliveryQueue.layer({ retry: capped })).pipe(
  Layer.provideMerge(Database.layerSqlite({ filename: ":memory:" }))
)

const receipt = (messageId: string, text = `id:${messageId} stat:DELIVRD`): DeliveryQueue.DeliverSmFields => ({
  sourceAddr: "491701234567",
  destinationAddr: "Acme",
  esmClass: 0x04,
  shortMessage: new TextEncoder().encode(text),
  tlvs: { receiptedMessageId: messageId, messageState: MessageState.DELIVERED }
})

const storedMessage = Effect.flatMap(MessageStore.MessageStore, (store) =>
  store.insert(newMessage({ body: new Uint8Array([1]) })))


const receiptOf = (id: string) =>
  Effect.flatMap(MessageStore.MessageStore, (store) =>
    Effect.map(store.findById(id), (m) => Option.getOrThrow(m).receipt))

describe("DeliveryQueue", () => {
  it.effect("enqueues, leases to one taker, and forgets what is acknowledged", () =>
    Effect.gen(function*() {
      const queue = yield* DeliveryQueue.DeliveryQueue
      const message = yield* storedMessage
      const item = yield* queue.enqueue({ account: "acme", kind: "receipt", messageId: message.id, pdu: receipt(message.id) })
      const mo = yield* queue.enqueue({
        account: "acme",
        kind: "mo",
        pdu: { sourceAddr: "4917", destinationAddr: "1234", shortMessage: new TextEncoder().encode("hi") }
      })
      yield* queue.enqueue({ account: "other", kind: "mo", pdu: { sourceAddr: "1", destinationAddr: "2" } })
      assert.strictEqual(yield* receiptOf(message.id), "queued")
      assert.strictEqual(yield* queue.size("acme"), 2)
      assert.strictEqual(yield* queue.size(), 3)

      const taken = yield* queue.take("acme")
      assert.deepStrictEqual(taken.map((i) => i.id), [item.id, mo.id])
      assert.strictEqual(taken[0].attempts, 1)
      assert.strictEqual(taken[0].pdu._tag, "deliver_sm")
      assert.strictEqual(taken[0].pdu.esmClass, 0x04)
      assert.strictEqual(taken[0].pdu.tlvs.receiptedMessageId, message.id)
      assert.deepStrictEqual(taken[0].pdu, item.pdu)
      // leased: a second receiver session of the account does not get them again
      assert.strictEqual((yield* queue.take("acme")).length, 0)

      yield* queue.ackAll([item.id, mo.id])
      assert.strictEqual(yield* queue.size("acme"), 0)
      assert.strictEqual(yield* receiptOf(message.id), "delivered")
      assert.strictEqual((yield* queue.take("other")).length, 1)
    }).pipe(Effect.provide(stack(":memory:"))))

  it.scoped("a claim: writeAll leases up to its room, announce hands them over; a refused offer is given back", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const queue = yield* DeliveryQueue.DeliveryQueue
      const woken = yield* queue.subscribe
      const handed: Array<DeliveryQueue.DeliveryItem> = []
      let accepting = true
      const mos = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          account: "acme",
          kind: "mo" as const,
          pdu: { sourceAddr: "4917", destinationAddr: "1234", shortMessage: new TextEncoder().encode(`mo ${i}`) }
        }))
      yield* Effect.scoped(Effect.gen(function*() {
        yield* queue.claim("acme", {
          room: () => 2 - handed.length,
          offer: (items) => {
            if (!accepting) return false
            for (const item of items) handed.push(item)
            return true
          }
        })
        const items = yield* sql.withTransaction(queue.writeAll(mos(3)))
        // committed, leased to the claim (its attempt counted) before it is handed over
        assert.deepStrictEqual(items.map((item) => item.attempts), [1, 1, 0])
        yield* queue.announce(items)
        assert.deepStrictEqual(handed.map((item) => item.id), items.slice(0, 2).map((item) => item.id))
        assert.deepStrictEqual([...yield* Queue.takeAll(woken)], ["acme"])
        // `take` sees only the third
        assert.deepStrictEqual((yield* queue.take("acme")).map((item) => item.id), [items[2].id])

        // the claim goes away between the commit and the announcement: given back, due at once
        handed.length = 0
        accepting = false
        const later = yield* sql.withTransaction(queue.writeAll(mos(1)))
        assert.strictEqual(later[0].attempts, 1)
        yield* queue.announce(later)
        assert.strictEqual(handed.length, 0)
        assert.deepStrictEqual([...yield* Queue.takeAll(woken)], ["acme"])
        assert.deepStrictEqual((yield* queue.take("acme")).map((item) => [item.id, item.attempts]), [[later[0].id, 1]])
      }))
      // no claim once its Scope closed
      const unclaimed = yield* sql.withTransaction(queue.writeAll(mos(1)))
      assert.strictEqual(unclaimed[0].attempts, 0)
    }).pipe(Effect.provide(stackWithSql)))

  it.scoped("ackLater acknowledges without waiting for the commit", () =>
    Effect.gen(function*() {
      const queue = yield* DeliveryQueue.DeliveryQueue
      const message = yield* storedMessage
      const item = yield* queue.enqueue({ account: "acme", kind: "receipt", messageId: message.id, pdu: receipt(message.id) })
      yield* queue.take("acme")
      queue.ackLater(item.id, 0)
      // the next write's commit follows the ack's
      yield* queue.enqueue({ account: "other", kind: "mo", pdu: receipt("x") })
      assert.strictEqual(yield* queue.size("acme"), 0)
      assert.strictEqual(yield* receiptOf(message.id), "delivered")
    }).pipe(Effect.provide(stackWithSql)))

  it.scoped("writeAll queues in the caller's transaction (rolled back with it); announce wakes the subscribers", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const queue = yield* DeliveryQueue.DeliveryQueue
      const woken = yield* queue.subscribe
      const message = yield* storedMessage
      const request = { account: "acme", kind: "receipt", messageId: message.id, pdu: receipt(message.id) } as const
      const failed = yield* sql.withTransaction(Effect.zipRight(queue.writeAll([request]), Effect.fail("boom"))).pipe(
        Effect.flip
      )
      assert.strictEqual(failed, "boom")
      assert.strictEqual(yield* queue.size(), 0)
      assert.isNull(yield* receiptOf(message.id))

      // 70 = 64 + 4 + 1 + 1: several statements, the ids still in the order of the requests
      const mos = Array.from({ length: 69 }, (_, i) => ({
        account: "other",
        kind: "mo" as const,
        pdu: { sourceAddr: "4917", destinationAddr: "1234", shortMessage: new TextEncoder().encode(`mo ${i}`) }
      }))
      const items = yield* sql.withTransaction(queue.writeAll([request, ...mos]))
      assert.strictEqual(items.length, 70)
      for (let i = 1; i < items.length; i++) assert.isAbove(items[i].id, items[i - 1].id)
      assert.strictEqual(yield* receiptOf(message.id), "queued")
      assert.strictEqual(yield* queue.size(), 70)
      const taken = yield* queue.take("other", { limit: 100 })
      assert.deepStrictEqual(taken.map((item) => item.id), items.slice(1).map((item) => item.id))
      assert.deepStrictEqual(new TextDecoder().decode(taken[68].pdu.shortMessage), "mo 68")

      yield* queue.announce(items)
      const accounts = yield* Queue.takeAll(woken)
      assert.deepStrictEqual([...accounts].sort(), ["acme", "other"])
    }).pipe(Effect.provide(stackWithSql)))

  it.effect("a lease that runs out makes the item due again; release gives it back untried", () =>
    Effect.gen(function*() {
      const queue = yield* DeliveryQueue.DeliveryQueue
      const item = yield* queue.enqueue({ account: "acme", kind: "mo", pdu: { sourceAddr: "1", destinationAddr: "2" } })
      yield* queue.take("acme")
      assert.deepStrictEqual(yield* queue.nextDueAt("acme"), Option.some(30_000))
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual((yield* queue.take("acme")).length, 0)
      yield* TestClock.adjust("1 second")
      const again = yield* queue.take("acme")
      assert.deepStrictEqual(again.map((i) => [i.id, i.attempts]), [[item.id, 2]])
      yield* queue.release([item.id])
      const released = yield* queue.take("acme")
      assert.deepStrictEqual(released.map((i) => [i.id, i.attempts]), [[item.id, 2]])
    }).pipe(Effect.provide(stack(":memory:", { lease: "30 seconds" }))))

  it.effect("reschedules failed attempts by the retry schedule, exponential and capped", () =>
    Effect.gen(function*() {
      const queue = yield* DeliveryQueue.DeliveryQueue
      const item = yield* queue.enqueue({ account: "acme", kind: "mo", pdu: { sourceAddr: "1", destinationAddr: "2" } })
      const delays: Array<number> = []
      for (let attempt = 0; attempt < 5; attempt++) {
        const [taken] = yield* queue.take("acme")
        assert.strictEqual(taken.id, item.id)
        const now = yield* TestClock.currentTimeMillis
        const result = yield* queue.retry(item.id, CommandStatus.ESME_RX_T_APPN)
        assert.strictEqual(result._tag, "Rescheduled")
        if (result._tag !== "Rescheduled") return
        delays.push(result.at - now)
        assert.strictEqual((yield* queue.take("acme")).length, 0, "not due before its time")
        yield* TestClock.setTime(result.at)
      }
      assert.deepStrictEqual(delays, [1000, 2000, 4000, 4000, 4000])
      assert.strictEqual((yield* queue.retry(999_999))._tag, "Unknown")
    }).pipe(Effect.provide(stack(":memory:"))))

  it.effect("drops an item the schedule gives up on (a permanent refusal)", () =>
    Effect.gen(function*() {
      const queue = yield* DeliveryQueue.DeliveryQueue
      const message = yield* storedMessage
      const item = yield* queue.enqueue({ account: "acme", kind: "receipt", messageId: message.id, pdu: receipt(message.id) })
      yield* queue.take("acme")
      assert.deepStrictEqual(yield* queue.retry(item.id, CommandStatus.ESME_RX_P_APPN), { _tag: "Dropped" })
      assert.strictEqual(yield* queue.size(), 0)
      assert.strictEqual(yield* receiptOf(message.id), "dropped")
    }).pipe(Effect.provide(stack(":memory:"))))

  it.effect("expires items past their TTL on the Clock, with a log line and the receipt marked", () => {
    const logs: Array<string> = []
    const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))
    return Effect.gen(function*() {
      const queue = yield* DeliveryQueue.DeliveryQueue
      const message = yield* storedMessage
      yield* queue.enqueue({ account: "acme", kind: "receipt", messageId: message.id, pdu: receipt(message.id) })
      const keeper = yield* queue.enqueue({
        account: "acme",
        kind: "mo",
        pdu: { sourceAddr: "1", destinationAddr: "2" },
        ttl: "1 day"
      })
      yield* TestClock.adjust("59 minutes")
      assert.strictEqual(yield* queue.size(), 2)
      assert.strictEqual(logs.length, 0)
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual(yield* queue.size(), 1)
      assert.deepStrictEqual((yield* queue.take("acme")).map((i) => i.id), [keeper.id])
      assert.strictEqual(yield* receiptOf(message.id), "expired")
      assert.isTrue(logs.some((line) => line.includes("receipt dropped (expired)")), logs.join("\n"))
      // past its TTL, an item is not handed out even before the next sweep
      const shortLived = yield* queue.enqueue({
        account: "acme",
        kind: "mo",
        pdu: { sourceAddr: "1", destinationAddr: "2" },
        ttl: "10 seconds"
      })
      yield* TestClock.adjust("20 seconds")
      assert.strictEqual((yield* queue.take("acme")).length, 0)
      assert.strictEqual(yield* queue.size(), 2)
      assert.strictEqual(yield* queue.expire, 1)
      assert.strictEqual(yield* queue.size(), 1)
      assert.isTrue(logs.some((line) => line.includes("mo dropped (expired)")))
      assert.isTrue(shortLived.expiresAt < (yield* TestClock.currentTimeMillis))
    }).pipe(
      Effect.provide(stack(":memory:", { ttl: "1 hour", sweepInterval: "1 minute" })),
      Effect.provide(capture)
    )
  })

  it.effect("survives a reopen of the same file, TLVs and all", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "gateway-queue-"))
      const filename = join(dir, "gateway.db")
      const enqueued = yield* Effect.gen(function*() {
        const queue = yield* DeliveryQueue.DeliveryQueue
        const message = yield* storedMessage
        const item = yield* queue.enqueue({ account: "acme", kind: "receipt", messageId: message.id, pdu: receipt(message.id) })
        // taken but never acknowledged: in flight when the gateway stops
        yield* queue.take("acme")
        return item
      }).pipe(Effect.provide(stack(filename)))
      const reopened = yield* Effect.gen(function*() {
        const queue = yield* DeliveryQueue.DeliveryQueue
        return yield* queue.take("acme")
      }).pipe(Effect.provide(stack(filename)))
      assert.strictEqual(reopened.length, 1)
      assert.strictEqual(reopened[0].id, enqueued.id)
      assert.strictEqual(reopened[0].attempts, 2)
      assert.deepStrictEqual(reopened[0].pdu, enqueued.pdu)
      assert.strictEqual(reopened[0].pdu.tlvs.messageState, MessageState.DELIVERED)
      rmSync(dir, { recursive: true, force: true })
    }))

  it.effect("refuses a deliver_sm the codec cannot encode", () =>
    Effect.gen(function*() {
      const queue = yield* DeliveryQueue.DeliveryQueue
      const error = yield* Effect.flip(
        queue.enqueue({ account: "acme", kind: "mo", pdu: { sourceAddr: "x".repeat(30), destinationAddr: "2" } })
      )
      assert.strictEqual(error.reason, "InvalidPdu")
      assert.strictEqual(yield* queue.size(), 0)
    }).pipe(Effect.provide(stack(":memory:"))))

  it.scoped("tells subscribers which account got something", () =>
    Effect.gen(function*() {
      const queue = yield* DeliveryQueue.DeliveryQueue
      const dequeue = yield* queue.subscribe
      yield* queue.enqueue({ account: "acme", kind: "mo", pdu: { sourceAddr: "1", destinationAddr: "2" } })
      assert.strictEqual(yield* Queue.take(dequeue), "acme")
    }).pipe(Effect.provide(stack(":memory:"))))

  it.effect("retryDelay replays the schedule to the n-th attempt", () =>
    Effect.gen(function*() {
      const delays = yield* Effect.forEach([1, 2, 3, 4, 10], (n) => DeliveryQueue.retryDelay(capped, n, "timeout"))
      assert.deepStrictEqual(delays.map(Option.getOrThrow), [1000, 2000, 4000, 4000, 4000])
      assert.isTrue(Option.isNone(yield* DeliveryQueue.retryDelay(capped, 3, CommandStatus.ESME_RX_R_APPN)))
      const bounded = yield* DeliveryQueue.retryDelay(Resend.deliveryPolicy({ attempts: 3 }), 3, "timeout")
      assert.isTrue(Option.isNone(bounded))
      const jittered = Option.getOrThrow(yield* DeliveryQueue.retryDelay(Resend.deliveryPolicy(), 2, "timeout"))
      assert.isTrue(jittered >= 1600 && jittered <= 2400, String(jittered))
      assert.strictEqual(Duration.toMillis("1 second"), 1000)
    }))
})
