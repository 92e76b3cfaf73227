/**
 * The gateway end to end, in process, over a real socket: node-smpp's client (npm `smpp`)
 * as the customer's ESME against `Gateway.layerFromSettings` on 127.0.0.1, port 0.
 */
import { assert, describe, it } from "@effect/vitest"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Esme from "./fixtures/esme.js"
import { eventually, start } from "./fixtures/gateway.js"
import { MessageStore } from "../src/MessageStore.js"
import * as Password from "../src/Password.js"

const submit = Esme.submitSmFields

// an hour from now, in SMPP's relative form
const IN_AN_HOUR = "000000010000000R"

describe("Gateway (in process, node-smpp client)", () => {
  it.scopedLive("binds TRX, submits with a receipt asked, gets the id and a receipt carrying it", () =>
    Effect.gen(function*() {
      const gateway = yield* start()
      const esme = yield* Esme.bound(gateway.port)
      const response = yield* Esme.call(esme, "submit_sm", submit({ registered_delivery: 1 }))
      assert.strictEqual(response.command_status, CommandStatus.ESME_ROK)
      const id = response.message_id as string
      assert.match(id, /^[0-9a-f]{16}$/)

      yield* Esme.until(esme, () => esme.received.some((pdu) => Esme.receiptedId(pdu) === id), "the receipt")
      const receipt = esme.received.find((pdu) => Esme.receiptedId(pdu) === id)!
      assert.strictEqual(receipt.command, "deliver_sm")
      assert.strictEqual(receipt.esm_class, 0x04)
      assert.strictEqual(receipt.message_state, MessageState.DELIVERED)
      assert.strictEqual(receipt.source_addr, "491701234567")
      assert.strictEqual(receipt.destination_addr, "Acme")
      const text = Esme.textOf(receipt)
      assert.include(text, `id:${id} sub:001 dlvrd:001 submit date:`)
      assert.include(text, "stat:DELIVRD err:000 text:hello")

      // acknowledged: the store knows the receipt reached the customer
      const store = Context.get(gateway.context, MessageStore)
      yield* eventually(Effect.flatMap(store.findById(id), (message) =>
        Option.isSome(message) && message.value.receipt === "delivered" && message.value.state === MessageState.DELIVERED
          ? Effect.void
          : Effect.fail("not yet")))
    }))

  it.scopedLive("data_sm is answered with an id, and a receipt follows", () =>
    Effect.gen(function*() {
      const gateway = yield* start()
      const esme = yield* Esme.bound(gateway.port)
      const response = yield* Esme.call(esme, "data_sm", {
        source_addr: "Acme",
        destination_addr: "491701234567",
        registered_delivery: 1,
        message_payload: Buffer.from("payload text")
      })
      assert.strictEqual(response.command, "data_sm_resp")
      assert.strictEqual(response.command_status, CommandStatus.ESME_ROK)
      const id = response.message_id as string
      yield* Esme.until(esme, () => esme.received.some((pdu) => Esme.receiptedId(pdu) === id), "the receipt")
    }))

  it.scopedLive("an account configured deliverWith data_sm gets its receipt as data_sm, others as deliver_sm", () =>
    Effect.gen(function*() {
      const hash = yield* Password.hash("acmepass", { N: 1024 })
      const gateway = yield* start({
        accounts: [
          { systemId: "demo", password: "demo", deliverWith: "data_sm" },
          { systemId: "acme", password: hash }
        ]
      })
      const viaDataSm = yield* Esme.bound(gateway.port)
      const viaDeliverSm = yield* Esme.bound(gateway.port, { systemId: "acme", password: "acmepass" })
      const first = yield* Esme.call(viaDataSm, "submit_sm", submit({ registered_delivery: 1, short_message: "one" }))
      const second = yield* Esme.call(viaDeliverSm, "submit_sm", submit({ registered_delivery: 1, short_message: "two" }))
      assert.strictEqual(first.command_status, CommandStatus.ESME_ROK)
      assert.strictEqual(second.command_status, CommandStatus.ESME_ROK)
      const firstId = first.message_id as string
      const secondId = second.message_id as string

      yield* Esme.until(viaDataSm, () => viaDataSm.received.some((pdu) => Esme.receiptedId(pdu) === firstId), "the data_sm receipt")
      const receipt = viaDataSm.received.find((pdu) => Esme.receiptedId(pdu) === firstId)!
      assert.strictEqual(receipt.command, "data_sm")
      assert.strictEqual(receipt.esm_class, 0x04)
      assert.strictEqual(receipt.message_state, MessageState.DELIVERED)
      // the receipt text travels in message_payload
      const payload = receipt.message_payload as { readonly message?: unknown } | Buffer
      assert.include(Buffer.isBuffer(payload) ? payload.toString("latin1") : String(payload.message), `id:${firstId} `)
      assert.isTrue(viaDataSm.received.every((pdu) => pdu.command === "data_sm"))

      yield* Esme.until(viaDeliverSm, () => viaDeliverSm.received.some((pdu) => Esme.receiptedId(pdu) === secondId), "the deliver_sm receipt")
      assert.isTrue(viaDeliverSm.received.every((pdu) => pdu.command === "deliver_sm"))

      // the data_sm_resp acknowledged it like a deliver_sm_resp
      const store = Context.get(gateway.context, MessageStore)
      yield* eventually(Effect.flatMap(store.findById(firstId), (message) =>
        Option.isSome(message) && message.value.receipt === "delivered" ? Effect.void : Effect.fail("not yet")))
    }))

  it.scopedLive("refuses a wrong password with ESME_RINVPASWD and an unknown system_id with ESME_RINVSYSID", () =>
    Effect.gen(function*() {
      const gateway = yield* start()
      const esme = yield* Effect.acquireRelease(
        Effect.promise(() => Esme.connect(gateway.port)),
        (esme) => Effect.promise(() => esme.close())
      )
      const wrong = yield* Esme.call(esme, "bind_transceiver", { system_id: "demo", password: "wrong" })
      assert.strictEqual(wrong.command_status, CommandStatus.ESME_RINVPASWD)
      const unknown = yield* Esme.call(esme, "bind_transceiver", { system_id: "nobody", password: "x" })
      assert.strictEqual(unknown.command_status, CommandStatus.ESME_RINVSYSID)
      // refused binds leave the session open: the right password still binds
      const right = yield* Esme.call(esme, "bind_transceiver", { system_id: "demo", password: "demo" })
      assert.strictEqual(right.command_status, CommandStatus.ESME_ROK)
    }))

  it.scopedLive("answers ESME_RTHROTTLED beyond the account's throughput, and ESME_RBINDFAIL beyond its sessions", () =>
    Effect.gen(function*() {
      const gateway = yield* start({
        accounts: [{ systemId: "demo", password: "demo", maxThroughput: 5, burst: 5, maxSessions: 1 }]
      })
      const esme = yield* Esme.bound(gateway.port)
      const responses = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        (i) => Esme.call(esme, "submit_sm", submit({ destination_addr: `4917000000${i}` })),
        { concurrency: "unbounded" }
      )
      const statuses = responses.map((r) => r.command_status)
      const ok = statuses.filter((s) => s === CommandStatus.ESME_ROK).length
      const throttled = statuses.filter((s) => s === CommandStatus.ESME_RTHROTTLED).length
      assert.strictEqual(ok + throttled, 20, statuses.join(","))
      assert.isAtLeast(ok, 5)
      assert.isAtLeast(throttled, 10)

      const second = yield* Effect.flip(Esme.bound(gateway.port))
      assert.include(second.message, "0xd")
      // the count is held for the session's life only: once it ends, another may bind
      yield* Effect.promise(() => esme.close())
      yield* eventually(Effect.asVoid(Effect.scoped(Esme.bound(gateway.port))))
    }))

  it.scopedLive("query_sm, replace_sm and cancel_sm on a scheduled message; not on one already sent", () =>
    Effect.gen(function*() {
      const gateway = yield* start()
      const store = Context.get(gateway.context, MessageStore)
      const esme = yield* Esme.bound(gateway.port)
      const response = yield* Esme.call(
        esme,
        "submit_sm",
        submit({ schedule_delivery_time: IN_AN_HOUR, registered_delivery: 1 })
      )
      assert.strictEqual(response.command_status, CommandStatus.ESME_ROK)
      const id = response.message_id as string

      const queried = yield* Esme.call(esme, "query_sm", { message_id: id, source_addr: "Acme", source_addr_ton: 5 })
      assert.strictEqual(queried.command_status, CommandStatus.ESME_ROK)
      assert.strictEqual(queried.message_id, id)
      assert.strictEqual(queried.message_state, MessageState.ENROUTE)
      assert.strictEqual(queried.final_date, "")

      const replaced = yield* Esme.call(esme, "replace_sm", {
        message_id: id,
        source_addr: "Acme",
        source_addr_ton: 5,
        schedule_delivery_time: "000000020000000R",
        registered_delivery: 1,
        short_message: "replaced"
      })
      assert.strictEqual(replaced.command_status, CommandStatus.ESME_ROK)
      const stored = Option.getOrThrow(yield* store.findById(id))
      assert.strictEqual(Buffer.from(stored.body).toString(), "replaced")
      assert.isAbove(stored.scheduleDeliveryTime!, stored.createdAt + 90 * 60_000)

      const cancelled = yield* Esme.call(esme, "cancel_sm", { message_id: id, source_addr: "Acme", source_addr_ton: 5 })
      assert.strictEqual(cancelled.command_status, CommandStatus.ESME_ROK)
      const after = yield* Esme.call(esme, "query_sm", { message_id: id, source_addr: "Acme", source_addr_ton: 5 })
      assert.strictEqual(after.message_state, MessageState.DELETED)
      assert.instanceOf(after.final_date, Date)

      const again = yield* Esme.call(esme, "cancel_sm", { message_id: id, source_addr: "Acme" })
      assert.strictEqual(again.command_status, CommandStatus.ESME_RCANCELFAIL)
      const replaceCancelled = yield* Esme.call(esme, "replace_sm", { message_id: id, source_addr: "Acme" })
      assert.strictEqual(replaceCancelled.command_status, CommandStatus.ESME_RREPLACEFAIL)

      // a message due now went to the simulator at once: too late to cancel or replace
      const immediate = yield* Esme.call(esme, "submit_sm", submit({}))
      const sentId = immediate.message_id as string
      const cancelSent = yield* Esme.call(esme, "cancel_sm", { message_id: sentId, source_addr: "Acme" })
      assert.strictEqual(cancelSent.command_status, CommandStatus.ESME_RCANCELFAIL)
      const replaceSent = yield* Esme.call(esme, "replace_sm", { message_id: sentId, short_message: "x" })
      assert.strictEqual(replaceSent.command_status, CommandStatus.ESME_RREPLACEFAIL)
      const unknown = yield* Esme.call(esme, "query_sm", { message_id: "ffffffffffffffff" })
      assert.strictEqual(unknown.command_status, CommandStatus.ESME_RQUERYFAIL)
      const badSchedule = yield* Esme.call(esme, "submit_sm", submit({ schedule_delivery_time: "991399999999999+" }))
      assert.strictEqual(badSchedule.command_status, CommandStatus.ESME_RINVSCHED)
    }))

  it.scopedLive("submit_multi answers the unsuccessful destination and delivers the others' receipts", () =>
    Effect.gen(function*() {
      const gateway = yield* start()
      const esme = yield* Esme.bound(gateway.port)
      const response = yield* Esme.call(esme, "submit_multi", {
        source_addr_ton: 5,
        source_addr: "Acme",
        dest_address: [
          { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: "491700000001" },
          { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: "" },
          { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: "491700000002" }
        ],
        registered_delivery: 1,
        short_message: "to many"
      })
      assert.strictEqual(response.command_status, CommandStatus.ESME_ROK)
      assert.match(response.message_id as string, /^[0-9a-f]{16}$/)
      assert.deepStrictEqual(response.unsuccess_sme, [
        { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: "", error_status_code: CommandStatus.ESME_RINVDSTADR }
      ])
      yield* Esme.until(esme, () => esme.received.filter((pdu) => Esme.receiptedId(pdu) !== undefined).length === 2, "two receipts")
      const handsets = esme.received.map((pdu) => pdu.source_addr).sort()
      assert.deepStrictEqual(handsets, ["491700000001", "491700000002"])
      assert.include(esme.received.map(Esme.receiptedId), response.message_id)
    }))

  it.scopedLive("refuses a source address the account may not use", () =>
    Effect.gen(function*() {
      const gateway = yield* start({
        accounts: [{ systemId: "demo", password: "demo", sourceAddresses: ["Acme", "4930*"] }]
      })
      const esme = yield* Esme.bound(gateway.port)
      const allowed = yield* Esme.call(esme, "submit_sm", submit({ source_addr: "493012345" }))
      assert.strictEqual(allowed.command_status, CommandStatus.ESME_ROK)
      const refused = yield* Esme.call(esme, "submit_sm", submit({ source_addr: "Other" }))
      assert.strictEqual(refused.command_status, CommandStatus.ESME_RINVSRCADR)
    }))

  it.scopedLive("an ESME that unbinds without waiting gets every submit_sm_resp before its unbind_resp", () =>
    Effect.gen(function*() {
      const gateway = yield* start()
      const esme = yield* Esme.bound(gateway.port)
      const n = 200
      const order: Array<string> = []
      const answers = Array.from({ length: n }, () =>
        esme.request("submit_sm", submit({})).then((pdu) => {
          order.push(pdu.command)
          return pdu
        }))
      // no waiting: the unbind goes out right behind the submits
      const unbound = esme.request("unbind").then((pdu) => {
        order.push(pdu.command)
        return pdu
      })
      const [responses, unbindResp] = yield* Effect.promise(() => Promise.all([Promise.all(answers), unbound])).pipe(
        Effect.timeoutFail({
          duration: "10 seconds",
          onTimeout: () => new Error(`answered ${order.length} of ${n + 1} before the connection ended`)
        })
      )
      assert.strictEqual(unbindResp.command_status, CommandStatus.ESME_ROK)
      assert.deepStrictEqual(responses.map((r) => r.command_status), Array(n).fill(CommandStatus.ESME_ROK))
      assert.strictEqual(new Set(responses.map((r) => r.message_id)).size, n)
      assert.strictEqual(order.at(-1), "unbind_resp")
      assert.strictEqual(order.length, n + 1)
    }))

  it.scopedLive("sends no response when the simulator drops it, and still delivers the message", () =>
    Effect.gen(function*() {
      const gateway = yield* start({ simulator: { defaultDelay: "10 millis", dropResponsePercent: 100 } })
      const esme = yield* Esme.bound(gateway.port)
      const answered = yield* Esme.call(esme, "submit_sm", submit({ registered_delivery: 1 })).pipe(
        Effect.timeout("500 millis"),
        Effect.option
      )
      assert.isTrue(Option.isNone(answered))
      yield* Esme.until(esme, () => esme.received.some((pdu) => Esme.receiptedId(pdu) !== undefined), "the receipt")
      // the dropped response is not owed: an unbind is answered at once
      const unbound = yield* Esme.call(esme, "unbind").pipe(Effect.disconnect, Effect.timeout("2 seconds"))
      assert.strictEqual(unbound.command_status, CommandStatus.ESME_ROK)
    }))

  it.scopedLive("answers the simulator's injected submit error with its status", () =>
    Effect.gen(function*() {
      const gateway = yield* start({
        simulator: { submitErrors: [{ prefix: "4916", percent: 100, status: "ESME_RSUBMITFAIL" }] }
      })
      const esme = yield* Esme.bound(gateway.port)
      const refused = yield* Esme.call(esme, "submit_sm", submit({ destination_addr: "4916000", registered_delivery: 1 }))
      assert.strictEqual(refused.command_status, CommandStatus.ESME_RSUBMITFAIL)
      const accepted = yield* Esme.call(esme, "submit_sm", submit({ destination_addr: "4917000" }))
      assert.strictEqual(accepted.command_status, CommandStatus.ESME_ROK)
    }))
})
