import { assert, describe, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as SmppTime from "@effect-smpp/schema/SmppTime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { DeliveryQueue } from "../src/DeliveryQueue.js"
import { MessageStore } from "../src/MessageStore.js"
import * as Submissions from "../src/Submissions.js"
import { tempDir } from "./fixtures/gateway.js"
import { settle, stack, submitSm } from "./fixtures/stack.js"

const at = (millis: number) => SmppTime.format(SmppTime.fromEpochMillis(millis))
const text = (s: string) => new TextEncoder().encode(s)

describe("Submissions", () => {
  it.scoped("stores a scheduled message, and hands it to the connector at its schedule_delivery_time", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions.Submissions
      const store = yield* MessageStore
      const queue = yield* DeliveryQueue
      const { message } = yield* submissions.submit("demo", submitSm({ registeredDelivery: 1, scheduleDeliveryTime: at(60_000) }))
      assert.strictEqual(message.scheduleDeliveryTime, 60_000)
      assert.isNull(message.connector)

      yield* TestClock.adjust("59 seconds")
      yield* settle(Effect.void)
      assert.isNull(Option.getOrThrow(yield* store.findById(message.id)).connector)
      yield* TestClock.adjust("1 second")
      yield* settle(Effect.filterOrFail(store.findById(message.id), (m) => Option.isSome(m) && m.value.connector === "simulator"))
      // the simulator's delay (1 s) counts from the schedule
      yield* TestClock.adjust("1 second")
      yield* settle(Effect.filterOrFail(queue.size("demo"), (n) => n === 1))
      assert.strictEqual(Option.getOrThrow(yield* store.findById(message.id)).doneAt, 61_000)
    }).pipe(Effect.provide(stack())))

  it.scoped("a cancelled message is never sent; a replaced one is sent at its new time with its new text", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions.Submissions
      const store = yield* MessageStore
      const cancelled = yield* submissions.submit("demo", submitSm({ scheduleDeliveryTime: at(10_000) }))
      const replaced = yield* submissions.submit("demo", submitSm({ scheduleDeliveryTime: at(10_000) }))
      assert.deepStrictEqual(yield* submissions.cancel("demo", { id: cancelled.message.id }), [cancelled.message.id])
      // another account's message is not ours to touch
      const foreign = yield* Effect.flip(submissions.replace("acme", { id: replaced.message.id, body: text("no") }))
      assert.strictEqual(foreign.status, CommandStatus.ESME_RREPLACEFAIL)
      yield* submissions.replace("demo", {
        id: replaced.message.id,
        scheduleDeliveryTime: at(30_000),
        body: text("new text")
      })
      yield* TestClock.adjust("20 seconds")
      yield* settle(Effect.void)
      const stillWaiting = Option.getOrThrow(yield* store.findById(replaced.message.id))
      assert.isNull(stillWaiting.connector)
      assert.strictEqual(new TextDecoder().decode(stillWaiting.body), "new text")
      yield* TestClock.adjust("10 seconds")
      yield* settle(Effect.filterOrFail(
        store.findById(replaced.message.id),
        (m) => Option.isSome(m) && m.value.connector === "simulator"
      ))
      const gone = Option.getOrThrow(yield* store.findById(cancelled.message.id))
      assert.strictEqual(gone.state, MessageState.DELETED)
      assert.isNull(gone.connector)
      const error = yield* Effect.flip(submissions.cancel("demo", { id: replaced.message.id }))
      assert.strictEqual(error.reason, "CancelFailed")
      assert.strictEqual(error.status, CommandStatus.ESME_RCANCELFAIL)
    }).pipe(Effect.provide(stack())))

  it.scoped("refuses with the statuses the checks give", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions.Submissions
      const statusOf = (account: string, pdu: Pdu.SubmitSm) =>
        Effect.map(Effect.flip(submissions.submit(account, pdu)), (error) => error.status)
      assert.strictEqual(yield* statusOf("nobody", submitSm({})), CommandStatus.ESME_RINVSYSID)
      assert.strictEqual(yield* statusOf("demo", submitSm({ destinationAddr: "" })), CommandStatus.ESME_RINVDSTADR)
      assert.strictEqual(yield* statusOf("demo", submitSm({ registeredDelivery: 3 })), CommandStatus.ESME_RINVREGDLVFLG)
      assert.strictEqual(
        yield* statusOf("demo", submitSm({ tlvs: { messagePayload: text("both") } })),
        CommandStatus.ESME_RINVMSGLEN
      )
      assert.strictEqual(yield* statusOf("demo", submitSm({ scheduleDeliveryTime: "nonsense" })), CommandStatus.ESME_RINVSCHED)
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual(yield* statusOf("demo", submitSm({ validityPeriod: at(60_000) })), CommandStatus.ESME_RINVEXPIRY)
      // a route to a connector that is not there
      assert.strictEqual(yield* statusOf("demo", submitSm({ destinationAddr: "44123" })), CommandStatus.ESME_RINVDSTADR)
      // the connector's refusal is the answer; the message is kept REJECTED, without a receipt
      assert.strictEqual(
        yield* statusOf("demo", submitSm({ destinationAddr: "4916000", registeredDelivery: 1 })),
        CommandStatus.ESME_RSUBMITFAIL
      )
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ state: number; receipt: string | null }>`SELECT state, receipt FROM messages
        WHERE destination_addr = '4916000'`
      assert.deepStrictEqual(rows, [{ state: MessageState.REJECTED, receipt: "dropped" }])
      yield* TestClock.adjust("1 second")
      // the throughput: burst 3, then throttled until the bucket refills
      for (let i = 0; i < 3; i++) yield* submissions.submit("demo", submitSm({}))
      assert.strictEqual(yield* statusOf("demo", submitSm({})), CommandStatus.ESME_RTHROTTLED)
      yield* TestClock.adjust("1 second")
      yield* submissions.submit("demo", submitSm({}))
    }).pipe(Effect.provide(stack({
      config: {
        accounts: [{ systemId: "demo", password: "demo", maxThroughput: 3, burst: 3 }],
        routes: [{ prefix: "44", connector: "upstream-uk" }],
        simulator: { submitErrors: [{ prefix: "4916", percent: 100, status: "ESME_RSUBMITFAIL" }] }
      }
    }))))

  it.scoped("unsafeSubmit: the same checks and pipeline from plain callbacks; a refusal at once, an outcome once stored", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions.Submissions
      const store = yield* MessageStore
      const sql = yield* SqlClient.SqlClient
      // the outcome given to the callback, or what unsafeSubmit answered at once
      const outcomeOf = (account: string, pdu: Pdu.SubmitSm) =>
        Effect.async<Exit.Exit<Submissions.Submitted, Submissions.SubmitError> | boolean>((resume) => {
          let called = 0
          const decided = submissions.unsafeSubmit(account, pdu, (exit) => {
            called++
            assert.strictEqual(called, 1)
            resume(Effect.succeed(exit))
          })
          if (decided !== true) resume(Effect.succeed(decided))
        })
      const statusOf = (outcome: Exit.Exit<Submissions.Submitted, Submissions.SubmitError> | boolean) => {
        assert.isTrue(Exit.isExit(outcome) && Exit.isFailure(outcome))
        return Option.getOrThrow(Cause.failureOption((outcome as Exit.Failure<never, Submissions.SubmitError>).cause)).status
      }
      assert.strictEqual(statusOf(yield* outcomeOf("nobody", submitSm({}))), CommandStatus.ESME_RINVSYSID)
      assert.strictEqual(statusOf(yield* outcomeOf("demo", submitSm({ destinationAddr: "" }))), CommandStatus.ESME_RINVDSTADR)
      // scheduled for later: left to `submit` (which wakes the dispatcher)
      assert.isFalse(yield* outcomeOf("demo", submitSm({ scheduleDeliveryTime: at(60_000) })))
      // stored, then taken by the simulator (no draws: its own plain-code path)
      const accepted = yield* outcomeOf("demo", submitSm({ registeredDelivery: 1 }))
      assert.isTrue(Exit.isExit(accepted) && Exit.isSuccess(accepted))
      const { message } = (accepted as Exit.Success<Submissions.Submitted, never>).value
      const stored = Option.getOrThrow(yield* store.findById(message.id))
      assert.strictEqual(stored.connector, "simulator")
      assert.strictEqual(stored.state, MessageState.ENROUTE)
      // the connector's refusal (a draw: through its `submit`) is the answer; the message REJECTED
      assert.strictEqual(
        statusOf(yield* outcomeOf("demo", submitSm({ destinationAddr: "4916000", registeredDelivery: 1 }))),
        CommandStatus.ESME_RSUBMITFAIL
      )
      const rows = yield* sql<{ state: number; receipt: string | null }>`SELECT state, receipt FROM messages
        WHERE destination_addr = '4916000'`
      assert.deepStrictEqual(rows, [{ state: MessageState.REJECTED, receipt: "dropped" }])
      // the account's throughput (burst 3: two taken above, one left)
      yield* outcomeOf("demo", submitSm({}))
      assert.strictEqual(statusOf(yield* outcomeOf("demo", submitSm({}))), CommandStatus.ESME_RTHROTTLED)
    }).pipe(Effect.provide(stack({
      config: {
        accounts: [{ systemId: "demo", password: "demo", maxThroughput: 3, burst: 3 }],
        simulator: { submitErrors: [{ prefix: "4916", percent: 100, status: "ESME_RSUBMITFAIL" }] }
      }
    }))))

  it.scoped("a scheduled message the connector refuses when it is due is REJECTED, with a receipt", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions.Submissions
      const queue = yield* DeliveryQueue
      const { message } = yield* submissions.submit("demo", submitSm({
        destinationAddr: "4916000",
        registeredDelivery: 1,
        scheduleDeliveryTime: at(5_000)
      }))
      yield* TestClock.adjust("5 seconds")
      yield* settle(Effect.filterOrFail(queue.size("demo"), (n) => n === 1))
      const [receipt] = yield* queue.take("demo")
      assert.strictEqual(receipt.messageId, message.id)
      assert.include(new TextDecoder().decode(receipt.pdu.shortMessage), "stat:REJECTD err:069")
    }).pipe(Effect.provide(stack({
      config: { simulator: { submitErrors: [{ prefix: "4916", percent: 100, status: "ESME_RSUBMITFAIL" }] } }
    }))))

  it.scoped("data_sm and submit_multi go through the same pipeline", () =>
    Effect.gen(function*() {
      const submissions = yield* Submissions.Submissions
      const long = new Uint8Array(300).fill(0x41)
      const data = yield* submissions.submitData("demo", Pdu.make("data_sm", {
        sourceAddr: "Acme",
        destinationAddr: "4917",
        registeredDelivery: 1,
        tlvs: { messagePayload: long }
      }))
      assert.strictEqual(data.message.body.length, 300)
      assert.strictEqual(data.message.registeredDelivery, 1)

      const multi = yield* submissions.submitMulti("demo", Pdu.make("submit_multi", {
        sourceAddr: "Acme",
        destAddresses: [
          { destFlag: 1, destAddrTon: 1, destAddrNpi: 1, destinationAddr: "4917001" },
          { destFlag: 2, dlName: "friends" },
          { destFlag: 1, destAddrTon: 1, destAddrNpi: 1, destinationAddr: "4917002" }
        ],
        shortMessage: text("to all")
      }))
      assert.strictEqual(multi.messages.length, 2)
      assert.strictEqual(multi.messageId, multi.messages[0].id)
      assert.deepStrictEqual(multi.messages.map((m) => m.destinationAddr), ["4917001", "4917002"])
      assert.deepStrictEqual(multi.unsuccess, [
        { destAddrTon: 0, destAddrNpi: 0, destinationAddr: "friends", errorStatusCode: CommandStatus.ESME_RINVDLNAME }
      ])
    }).pipe(Effect.provide(stack())))

  it.effect("after a restart, submits again what the simulator had not answered, so its receipt still comes", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.scoped(tempDir("submissions-"))
      const filename = `${dir}/gateway.db`
      const config = { simulator: { defaultDelay: "1 minute" } }
      const id = yield* Effect.gen(function*() {
        const submissions = yield* Submissions.Submissions
        const { message } = yield* submissions.submit("demo", submitSm({ registeredDelivery: 1 }))
        yield* TestClock.adjust("30 seconds")
        return message.id
      }).pipe(Effect.scoped, Effect.provide(stack({ filename, config })))

      yield* Effect.gen(function*() {
        const queue = yield* DeliveryQueue
        const store = yield* MessageStore
        assert.strictEqual(yield* queue.size(), 0)
        // resubmitted at start (30 s), answered a minute later
        yield* TestClock.adjust("59 seconds")
        yield* settle(Effect.void)
        assert.strictEqual(yield* queue.size(), 0)
        yield* TestClock.adjust("1 second")
        yield* settle(Effect.filterOrFail(queue.size(), (n) => n === 1))
        const [receipt] = yield* queue.take("demo")
        assert.strictEqual(receipt.messageId, id)
        assert.strictEqual(Option.getOrThrow(yield* store.findById(id)).state, MessageState.DELIVERED)
      }).pipe(Effect.scoped, Effect.provide(stack({ filename, config })))
    }))
})
