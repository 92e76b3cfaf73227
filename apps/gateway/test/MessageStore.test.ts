import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../src/Database.js"
import * as MessageStore from "../src/MessageStore.js"
import { newMessage } from "./fixtures/messages.js"

const storeLayer = (filename: string, options?: MessageStore.Options) =>
  MessageStore.layer(options).pipe(Layer.provide(Database.layerSqlite({ filename })))

const memory = storeLayer(":memory:")

// the store and its SqlClient, for tests that open transactions themselves
const memoryWithSql = MessageStore.layer().pipe(Layer.provideMerge(Database.layerSqlite({ filename: ":memory:" })))

const tempDir = () => mkdtempSync(join(tmpdir(), "gateway-store-"))

const message = newMessage

describe("MessageStore", () => {
  it.effect("stores a message and reads it back field by field", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const store = yield* MessageStore.MessageStore
      const stored = yield* store.insert(message({ validityPeriod: 1_700_000_600_000, serviceType: "CMT" }))
      assert.strictEqual(stored.id.length, 16)
      assert.match(stored.id, /^[0-9a-f]{16}$/)
      assert.strictEqual(stored.state, MessageState.ENROUTE)
      const found = Option.getOrThrow(yield* store.findById(stored.id))
      assert.deepStrictEqual(found, stored)
      assert.deepStrictEqual(found.body, new TextEncoder().encode("hello"))
      assert.strictEqual(found.body.constructor, Uint8Array)
      assert.strictEqual(found.createdAt, 1_700_000_000_000)
      assert.strictEqual(found.validityPeriod, 1_700_000_600_000)
      assert.strictEqual(found.serviceType, "CMT")
      assert.isTrue(Option.isNone(yield* store.findById("ffffffffffffffff")))
    }).pipe(Effect.provide(memory)))

  it.effect("commits concurrent inserts in batches, each id unique and every message readable", () =>
    Effect.gen(function*() {
      const store = yield* MessageStore.MessageStore
      const stored = yield* Effect.forEach(
        Array.from({ length: 300 }, (_, i) => message({ destinationAddr: `49170${i}` })),
        (m) => store.insert(m),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(stored.map((m) => m.id)).size, 300)
      const stats = store.stats()
      assert.strictEqual(stats.writes, 300)
      assert.isBelow(stats.batches, 300 / 10, "inserts were grouped into transactions")
      for (const m of stored) {
        const found = Option.getOrThrow(yield* store.findById(m.id))
        assert.strictEqual(found.destinationAddr, m.destinationAddr)
      }
    }).pipe(Effect.provide(memory)))

  it.effect("respects batchSize", () =>
    Effect.gen(function*() {
      const store = yield* MessageStore.MessageStore
      yield* Effect.forEach(Array.from({ length: 50 }, () => message()), (m) => store.insert(m), {
        concurrency: "unbounded"
      })
      assert.isAtLeast(store.stats().batches, 5)
    }).pipe(Effect.provide(storeLayer(":memory:", { batchSize: 10 }))))

  it.effect("never gives an id twice across a reopen of the same file", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const filename = join(dir, "nested", "gateway.db")
      const insertSome = Effect.gen(function*() {
        const store = yield* MessageStore.MessageStore
        return yield* Effect.forEach([1, 2, 3], () => store.insert(message()), { concurrency: 3 })
      }).pipe(Effect.provide(storeLayer(filename, { idBlockSize: 10 })))
      const first = yield* insertSome
      const second = yield* insertSome
      const ids = [...first, ...second].map((m) => m.id)
      assert.strictEqual(new Set(ids).size, 6)
      // the second run starts past the whole block the first one reserved
      assert.isTrue(second.every((m) => first.every((f) => m.id > f.id)))
      const reread = yield* Effect.gen(function*() {
        const store = yield* MessageStore.MessageStore
        return yield* store.findById(first[0].id)
      }).pipe(Effect.provide(storeLayer(filename)))
      assert.isTrue(Option.isSome(reread))
      rmSync(dir, { recursive: true, force: true })
    }))

  it.effect("updateState sets the outcome and done time once, markSubmitted records the upstream id", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1000)
      const store = yield* MessageStore.MessageStore
      const stored = yield* store.insert(message())
      assert.isTrue(yield* store.markSubmitted(stored.id, { connector: "simulator", upstreamId: "up-1" }))
      const byUpstream = Option.getOrThrow(yield* store.findByUpstreamId("simulator", "up-1"))
      assert.strictEqual(byUpstream.id, stored.id)
      yield* TestClock.setTime(5000)
      const updated = Option.getOrThrow(yield* store.updateState(stored.id, { state: MessageState.DELIVERED }))
      assert.strictEqual(updated.state, MessageState.DELIVERED)
      assert.strictEqual(updated.doneAt, 5000)
      assert.strictEqual(updated.upstreamId, "up-1")
      // a second outcome for a final message changes nothing
      const again = yield* store.updateState(stored.id, { state: MessageState.UNDELIVERABLE, errorCode: 9 })
      assert.isTrue(Option.isNone(again))
      assert.strictEqual(Option.getOrThrow(yield* store.findById(stored.id)).state, MessageState.DELIVERED)
      assert.isFalse(yield* store.markSubmitted("0000000000999999", { connector: "x", upstreamId: "y" }))
    }).pipe(Effect.provide(memory)))

  it.effect("updateStates: many messages in one go (every chunk size), a duplicate only by its first update", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1000)
      const store = yield* MessageStore.MessageStore
      // 341 = 5 × 64 + 16 + 4 + 1: the state updates go 64 rows at most per statement (and
      // the inserts); every chunk size used at least once
      const stored = yield* Effect.forEach(Array.from({ length: 341 }), () => store.insert(message()), {
        concurrency: "unbounded"
      })
      yield* TestClock.setTime(2000)
      const updates = stored.map((m, i) => ({
        id: m.id,
        update: { state: i % 2 === 0 ? MessageState.DELIVERED : MessageState.UNDELIVERABLE, errorCode: i % 7, at: 1500 + i }
      }))
      // the first message twice: the second update finds it final
      const results = yield* store.updateStates([
        ...updates,
        { id: stored[0].id, update: { state: MessageState.EXPIRED } },
        { id: "0000000000999999", update: { state: MessageState.DELIVERED } }
      ])
      assert.strictEqual(results.length, 343)
      for (let i = 0; i < 341; i++) {
        const updated = Option.getOrThrow(results[i])
        assert.strictEqual(updated.id, stored[i].id)
        assert.strictEqual(updated.state, i % 2 === 0 ? MessageState.DELIVERED : MessageState.UNDELIVERABLE)
        assert.strictEqual(updated.errorCode, i % 7)
        assert.strictEqual(updated.doneAt, 1500 + i)
        assert.deepStrictEqual(updated.body, stored[i].body)
      }
      assert.isTrue(Option.isNone(results[341]))
      assert.isTrue(Option.isNone(results[342]))
      assert.strictEqual(Option.getOrThrow(yield* store.findById(stored[0].id)).state, MessageState.DELIVERED)
      // ENROUTE is not final: no done time
      const other = yield* store.insert(message())
      const enroute = Option.getOrThrow((yield* store.updateStates([{ id: other.id, update: { state: MessageState.ENROUTE } }]))[0])
      assert.isNull(enroute.doneAt)
    }).pipe(Effect.provide(memory)))

  it.effect("writeStates writes in the caller's transaction: rolled back with it", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* MessageStore.MessageStore
      const a = yield* store.insert(message())
      const failed = yield* sql.withTransaction(
        Effect.zipRight(store.writeStates([{ id: a.id, update: { state: MessageState.DELIVERED } }]), Effect.fail("boom"))
      ).pipe(Effect.flip)
      assert.strictEqual(failed, "boom")
      assert.strictEqual(Option.getOrThrow(yield* store.findById(a.id)).state, MessageState.ENROUTE)
      const written = yield* sql.withTransaction(store.writeStates([{ id: a.id, update: { state: MessageState.DELIVERED } }]))
      assert.strictEqual(Option.getOrThrow(written[0]).state, MessageState.DELIVERED)
      assert.strictEqual(Option.getOrThrow(yield* store.findById(a.id)).state, MessageState.DELIVERED)
    }).pipe(Effect.provide(memoryWithSql)))

  it.effect("writeStates with the messages at hand reads back ids only; queueReceipts marks the receipts queued", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* MessageStore.MessageStore
      const asks = yield* store.insert(message({ registeredDelivery: 1 }))
      const failuresOnly = yield* store.insert(message({ registeredDelivery: 2 }))
      const none = yield* store.insert(message({ registeredDelivery: 0 }))
      const unknown = yield* store.insert(message({ registeredDelivery: 1 }))
      const written = yield* sql.withTransaction(store.writeStates([
        { id: asks.id, update: { state: MessageState.UNDELIVERABLE, errorCode: 7, at: 5000 }, message: asks },
        { id: failuresOnly.id, update: { state: MessageState.DELIVERED, at: 5000 }, message: failuresOnly },
        { id: none.id, update: { state: MessageState.DELIVERED, at: 5000 }, message: none },
        // without the message: read back whole
        { id: unknown.id, update: { state: MessageState.DELIVERED, at: 5000 } }
      ], { queueReceipts: true }))
      // the messages as the store now has them, field by field
      for (const [i, m] of [asks, failuresOnly, none, unknown].entries()) {
        assert.deepStrictEqual(Option.getOrThrow(written[i]), Option.getOrThrow(yield* store.findById(m.id)))
      }
      assert.strictEqual(Option.getOrThrow(written[0]).errorCode, 7)
      assert.deepStrictEqual(written.map((m) => Option.getOrThrow(m).receipt), ["queued", null, null, "queued"])
      // final already: nothing written, nothing answered
      const again = yield* sql.withTransaction(store.writeStates([
        { id: asks.id, update: { state: MessageState.DELIVERED }, message: asks }
      ], { queueReceipts: true }))
      assert.isTrue(Option.isNone(again[0]))
    }).pipe(Effect.provide(memoryWithSql)))

  it.effect("finds scheduled messages not yet routed; cancel, replace and claim only those", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10_000)
      const store = yield* MessageStore.MessageStore
      const later = yield* store.insert(message({ connector: null, scheduleDeliveryTime: 60_000 }))
      const sooner = yield* store.insert(message({ connector: null, scheduleDeliveryTime: 30_000, account: "other" }))
      const routed = yield* store.insert(message({ scheduleDeliveryTime: 20_000 }))

      const all = yield* store.findScheduled()
      assert.deepStrictEqual(all.map((m) => m.id), [sooner.id, later.id])
      assert.deepStrictEqual((yield* store.findScheduled({ dueBy: 40_000 })).map((m) => m.id), [sooner.id])
      assert.deepStrictEqual((yield* store.findScheduled({ account: "acme" })).map((m) => m.id), [later.id])

      // replace_sm: only the owner, only before routing
      assert.isTrue(Option.isNone(yield* store.replace({ id: later.id, account: "other", replacement: {} })))
      assert.isTrue(
        Option.isNone(yield* store.replace({ id: routed.id, account: "acme", replacement: { dataCoding: 8 } }))
      )
      const replaced = Option.getOrThrow(
        yield* store.replace({
          id: later.id,
          account: "acme",
          sourceAddr: "Acme",
          replacement: { body: new Uint8Array([1, 2]), scheduleDeliveryTime: null, registeredDelivery: 0 }
        })
      )
      assert.deepStrictEqual(replaced.body, new Uint8Array([1, 2]))
      assert.strictEqual(replaced.scheduleDeliveryTime, null)
      assert.strictEqual(replaced.registeredDelivery, 0)

      // cancel_sm: wrong source address refused, then cancelled, then not again
      assert.isTrue(Option.isNone(yield* store.cancel({ id: sooner.id, account: "other", sourceAddr: "Wrong" })))
      const cancelled = Option.getOrThrow(yield* store.cancel({ id: sooner.id, account: "other" }))
      assert.strictEqual(cancelled.state, MessageState.DELETED)
      assert.strictEqual(cancelled.doneAt, 10_000)
      assert.isTrue(Option.isNone(yield* store.cancel({ id: sooner.id, account: "other" })))
      assert.isTrue(Option.isNone(yield* store.cancel({ id: routed.id, account: "acme" })))

      // claim: once
      const claimed = yield* store.claim(later.id, "simulator")
      assert.strictEqual(Option.getOrThrow(claimed).connector, "simulator")
      assert.isTrue(Option.isNone(yield* store.claim(later.id, "simulator")))
      assert.strictEqual((yield* store.findScheduled()).length, 0)
    }).pipe(Effect.provide(memory)))

  it.effect("cancelMatching cancels by source and destination", () =>
    Effect.gen(function*() {
      const store = yield* MessageStore.MessageStore
      const a = yield* store.insert(message({ connector: null, scheduleDeliveryTime: 5000 }))
      const b = yield* store.insert(message({ connector: null, scheduleDeliveryTime: 6000, serviceType: "X" }))
      yield* store.insert(message({ connector: null, scheduleDeliveryTime: 6000, destinationAddr: "44" }))
      const ids = yield* store.cancelMatching({ account: "acme", sourceAddr: "Acme", destinationAddr: "491701234567" })
      assert.deepStrictEqual([...ids].sort(), [a.id, b.id].sort())
      assert.strictEqual((yield* store.findScheduled()).length, 1)
    }).pipe(Effect.provide(memory)))

  it.effect("finds messages past their validity period", () =>
    Effect.gen(function*() {
      const store = yield* MessageStore.MessageStore
      const soon = yield* store.insert(message({ validityPeriod: 1000 }))
      const late = yield* store.insert(message({ validityPeriod: 9000 }))
      yield* store.insert(message())
      assert.deepStrictEqual((yield* store.findExpired()).map((m) => m.id), [])
      yield* TestClock.setTime(5000)
      assert.deepStrictEqual((yield* store.findExpired()).map((m) => m.id), [soon.id])
      yield* store.updateState(soon.id, { state: MessageState.EXPIRED })
      assert.deepStrictEqual((yield* store.findExpired({ now: 10_000 })).map((m) => m.id), [late.id])
    }).pipe(Effect.provide(memory)))

  it("fromSubmitSm resolves SMPP times and takes message_payload as the body", () => {
    const now = Date.UTC(2024, 0, 1)
    const pdu = Pdu.SubmitSm.make({
      sourceAddr: "Acme",
      destinationAddr: "4917",
      validityPeriod: "000001000000000R", // one day
      shortMessage: new Uint8Array(0),
      tlvs: { messagePayload: new Uint8Array([65, 66]) }
    })
    const stored = Either.getOrThrow(MessageStore.fromSubmitSm("acme", pdu, now, "simulator"))
    assert.strictEqual(stored.validityPeriod, now + 86_400_000)
    assert.strictEqual(stored.scheduleDeliveryTime, null)
    assert.deepStrictEqual(stored.body, new Uint8Array([65, 66]))
    assert.strictEqual(stored.connector, "simulator")

    const bad = MessageStore.fromSubmitSm("acme", { ...pdu, scheduleDeliveryTime: "241399000000000+" }, now)
    assert.isTrue(Either.isLeft(bad))
    if (Either.isLeft(bad)) assert.strictEqual(bad.left.status, CommandStatus.ESME_RINVSCHED)
  })
})
