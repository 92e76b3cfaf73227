/**
 * Insert throughput of the message store on a SQLite file: group-committed inserts (the
 * store) against one transaction per insert (the peer), with `callers` concurrent callers
 * each inserting one message after the other, as submit_sm handlers do. Then the delivery
 * queue: receipts enqueued, and acknowledged, by as many callers.
 *
 *   npx tsx apps/gateway/bench/MessageStore.ts [messages] [callers]
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../src/Database.js"
import * as DeliveryQueue from "../src/DeliveryQueue.js"
import * as MessageStore from "../src/MessageStore.js"
import { Migrations } from "../src/Migrations.js"

const total = Number(process.argv[2] ?? 50_000)
const callers = Number(process.argv[3] ?? 200)

const message: MessageStore.NewMessage = {
  account: "bench",
  sourceAddrTon: 5,
  sourceAddrNpi: 0,
  sourceAddr: "Bench",
  destAddrTon: 1,
  destAddrNpi: 1,
  destinationAddr: "491701234567",
  esmClass: 0,
  dataCoding: 0,
  body: new TextEncoder().encode("Hello from the message store benchmark, 160 characters would be the usual".slice(0, 70)),
  registeredDelivery: 1,
  connector: "simulator"
}

const drive = (insert: () => Effect.Effect<unknown, unknown>) =>
  Effect.gen(function*() {
    const perCaller = Math.ceil(total / callers)
    const start = performance.now()
    yield* Effect.forEach(
      Array.from({ length: callers }),
      () => Effect.repeatN(Effect.suspend(insert), perCaller - 1),
      { concurrency: "unbounded", discard: true }
    )
    const seconds = (performance.now() - start) / 1000
    return (perCaller * callers) / seconds
  })

const run = (synchronous: "full" | "normal") =>
  Effect.gen(function*() {
    const dir = mkdtempSync(join(tmpdir(), "gateway-bench-"))
    const db = Database.layerSqlite({ filename: join(dir, "gateway.db"), synchronous })
    const batched = yield* Effect.gen(function*() {
      const store = yield* MessageStore.MessageStore
      const rate = yield* drive(() => store.insert(message))
      const stats = store.stats()
      return { rate, perBatch: stats.writes / stats.batches }
    }).pipe(Effect.provide(MessageStore.layer().pipe(Layer.provide(db))), Effect.scoped)
    // the peer: one INSERT, one transaction, per message
    let next = 1e12
    const single = yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return yield* drive(() =>
        sql`INSERT INTO messages ${
          sql.insert({
            id: (next++).toString(16).padStart(16, "0"),
            account: message.account,
            service_type: "",
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: message.sourceAddr,
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: message.destinationAddr,
            esm_class: 0,
            protocol_id: 0,
            priority_flag: 0,
            data_coding: 0,
            body: Buffer.from(message.body),
            registered_delivery: 1,
            schedule_delivery_time: null,
            validity_period: null,
            state: 1,
            error_code: 0,
            connector: "simulator",
            upstream_id: null,
            receipt: null,
            created_at: 0,
            updated_at: 0,
            done_at: null
          })
        }`
      )
    }).pipe(Effect.provide(Layer.provideMerge(Migrations.Default, db)), Effect.scoped)
    const queue = yield* Effect.gen(function*() {
      const queue = yield* DeliveryQueue.DeliveryQueue
      const ids: Array<number> = []
      const pdu: DeliveryQueue.DeliverSmFields = {
        sourceAddr: "491701234567",
        destinationAddr: "Bench",
        esmClass: 4,
        shortMessage: new TextEncoder().encode(
          "id:0000000000000001 sub:001 dlvrd:001 submit date:2401011200 done date:2401011200 stat:DELIVRD err:000 text:Hi"
        ),
        tlvs: { receiptedMessageId: "0000000000000001", messageState: 2 }
      }
      const enqueue = yield* drive(() =>
        Effect.map(queue.enqueue({ account: "bench", kind: "receipt", pdu }), (item) => ids.push(item.id))
      )
      let next = 0
      const ack = yield* drive(() => queue.ack(ids[next++]))
      return { enqueue, ack }
    }).pipe(Effect.provide(DeliveryQueue.layer().pipe(Layer.provide(db))), Effect.scoped)
    rmSync(dir, { recursive: true, force: true })
    console.log(
      `synchronous=${synchronous.padEnd(6)} batched ${Math.round(batched.rate).toLocaleString("en")} msgs/s ` +
        `(${batched.perBatch.toFixed(1)} per transaction) · one transaction each ` +
        `${Math.round(single).toLocaleString("en")} msgs/s · ratio ${(batched.rate / single).toFixed(1)}×`
    )
    console.log(
      `synchronous=${synchronous.padEnd(6)} delivery queue: enqueue ${Math.round(queue.enqueue).toLocaleString("en")} ` +
        `receipts/s · ack ${Math.round(queue.ack).toLocaleString("en")} acks/s`
    )
  })

console.log(`${total.toLocaleString("en")} inserts, ${callers} concurrent callers, SQLite file in ${tmpdir()}`)
Effect.runPromise(Effect.zipRight(run("full"), run("normal"))).catch((error) => {
  console.error(error)
  process.exit(1)
})
