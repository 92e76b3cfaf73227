import { assert, describe, it } from "@effect/vitest"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import type { ConnectorEvent, MoEvent, OutcomeEvent } from "../src/Connector.js"
import * as GatewayConfig from "../src/GatewayConfig.js"
import type { Message } from "../src/MessageStore.js"
import * as Simulator from "../src/Simulator.js"
import { storedMessage } from "./fixtures/messages.js"

const settings = (input: typeof GatewayConfig.SimulatorSettings.Encoded) =>
  Schema.decodeUnknownSync(GatewayConfig.SimulatorSettings)(input)

let nextId = 0
const message = (overrides?: Partial<Message>): Message =>
  storedMessage({ id: (++nextId).toString(16).padStart(16, "0"), body: new TextEncoder().encode("ping"), ...overrides })

// collects the simulator's events as they come, the way the gateway's pump would
const start = (input: typeof GatewayConfig.SimulatorSettings.Encoded) =>
  Effect.gen(function*() {
    const sim = yield* Simulator.make(settings(input))
    const seen = yield* Ref.make<ReadonlyArray<ConnectorEvent>>([])
    yield* Effect.forkScoped(Stream.runForEach(sim.events, (event) => Ref.update(seen, (all) => [...all, event])))
    const events = Effect.zipRight(Effect.yieldNow(), Ref.get(seen))
    const outcomes = Effect.map(events, (all) => all.filter((e): e is OutcomeEvent => e._tag === "Outcome"))
    const mos = Effect.map(events, (all) => all.filter((e): e is MoEvent => e._tag === "Mo"))
    return { sim, outcomes, mos }
  })

const accepted = (result: { readonly accepted: boolean }) => {
  assert.isTrue(result.accepted)
}

describe("Simulator", () => {
  it("pickRule lays the shares of matching rules end to end", () => {
    const rules = [
      { prefix: "49", percent: 60, name: "a" },
      { prefix: "44", percent: 100, name: "uk" },
      { prefix: "49", percent: 30, name: "b" }
    ]
    assert.strictEqual(Simulator.pickRule(rules, "4917", 0)?.name, "a")
    assert.strictEqual(Simulator.pickRule(rules, "4917", 59.9)?.name, "a")
    assert.strictEqual(Simulator.pickRule(rules, "4917", 60)?.name, "b")
    assert.strictEqual(Simulator.pickRule(rules, "4917", 95), undefined)
    assert.strictEqual(Simulator.pickRule(rules, "4477", 99)?.name, "uk")
    assert.strictEqual(Simulator.pickRule(rules, "33", 0), undefined)
  })

  it.scoped("unsafeSubmit: the same outcome without an effect when nothing is drawn; undefined when something is", () =>
    Effect.gen(function*() {
      const { outcomes, sim } = yield* start({
        defaultDelay: "5 seconds",
        maxThroughput: 1,
        rules: [{ prefix: "44", percent: 50, outcome: "UNDELIV" }]
      })
      const m = message()
      const result = sim.unsafeSubmit!(m)
      assert.isTrue(result !== undefined && result.accepted)
      // over the throughput (1 per second): throttled, at once
      assert.deepStrictEqual(sim.unsafeSubmit!(message()), { accepted: false, status: CommandStatus.ESME_RTHROTTLED })
      // a share below 100% is a draw from Random: left to `submit`
      assert.isUndefined(sim.unsafeSubmit!(message({ destinationAddr: "4477" })))
      yield* TestClock.adjust("5 seconds")
      const [outcome] = yield* outcomes
      assert.strictEqual(outcome.messageId, m.id)
      assert.strictEqual(outcome.state, MessageState.DELIVERED)
      assert.strictEqual(outcome.doneAt, 5000)
    }))

  it.scoped("reports DELIVRD after the default delay, on the Clock", () =>
    Effect.gen(function*() {
      const { outcomes, sim } = yield* start({ defaultDelay: "5 seconds" })
      const m = message()
      const result = yield* sim.submit(m)
      accepted(result)
      yield* TestClock.adjust("4999 millis")
      assert.strictEqual((yield* outcomes).length, 0)
      assert.strictEqual(sim.pending(), 1)
      yield* TestClock.adjust("1 millis")
      const [outcome] = yield* outcomes
      assert.deepStrictEqual(outcome, {
        _tag: "Outcome",
        connector: "simulator",
        messageId: m.id,
        upstreamId: result.accepted ? result.upstreamId : "",
        state: MessageState.DELIVERED,
        errorCode: 0,
        doneAt: 5000,
        // the message as submitted: Outcomes builds the receipt from it
        message: m
      })
      assert.strictEqual(sim.pending(), 0)
    }))

  it.scoped("applies rules by destination prefix, each with its delay and error code, in time order", () =>
    Effect.gen(function*() {
      const { outcomes, sim } = yield* start({
        rules: [
          { prefix: "4915", outcome: "UNDELIV", delay: "2 seconds", errorCode: 34 },
          { prefix: "4916", outcome: "REJECTD", delay: "1 second" },
          { prefix: "4917", outcome: "EXPIRED", delay: "3 seconds" }
        ],
        defaultDelay: "10 seconds"
      })
      const undeliv = message({ destinationAddr: "4915000" })
      const rejected = message({ destinationAddr: "4916000" })
      const expired = message({ destinationAddr: "4917000" })
      const other = message({ destinationAddr: "33600" })
      for (const m of [undeliv, rejected, expired, other]) accepted(yield* sim.submit(m))
      yield* TestClock.adjust("3 seconds")
      const got = (yield* outcomes).map((o) => [o.messageId, o.state, o.errorCode, o.doneAt])
      assert.deepStrictEqual(got, [
        [rejected.id, MessageState.REJECTED, 1, 1000],
        [undeliv.id, MessageState.UNDELIVERABLE, 34, 2000],
        [expired.id, MessageState.EXPIRED, 1, 3000]
      ])
      yield* TestClock.adjust("7 seconds")
      const last = (yield* outcomes)[3]
      assert.deepStrictEqual([last.messageId, last.state, last.doneAt], [other.id, MessageState.DELIVERED, 10_000])
    }))

  it.scoped("splits outcomes by percentage", () =>
    Effect.gen(function*() {
      const { outcomes, sim } = yield* start({
        defaultDelay: 0,
        rules: [{ prefix: "49", percent: 30, outcome: "UNDELIV" }, { prefix: "49", percent: 20, outcome: "REJECTD" }]
      })
      yield* Effect.forEach(Array.from({ length: 1000 }), () => sim.submit(message()))
      yield* TestClock.adjust("1 millis")
      const all = yield* outcomes
      assert.strictEqual(all.length, 1000)
      const count = (state: number) => all.filter((o) => o.state === state).length
      // 300 / 200 / 500 expected; a binomial spread of ±4 standard deviations
      assert.approximately(count(MessageState.UNDELIVERABLE), 300, 60)
      assert.approximately(count(MessageState.REJECTED), 200, 52)
      assert.approximately(count(MessageState.DELIVERED), 500, 64)
    }).pipe(Effect.withRandom(Random.make("simulator-percentages"))))

  it.scoped("counts the delay from schedule_delivery_time, and expires at the end of the validity period", () =>
    Effect.gen(function*() {
      const { outcomes, sim } = yield* start({ defaultDelay: "2 seconds" })
      const scheduled = message({ scheduleDeliveryTime: 60_000 })
      const shortLived = message({ validityPeriod: 1_000 })
      accepted(yield* sim.submit(scheduled))
      accepted(yield* sim.submit(shortLived))
      yield* TestClock.adjust("1 second")
      const [first] = yield* outcomes
      assert.deepStrictEqual([first.messageId, first.state, first.doneAt], [shortLived.id, MessageState.EXPIRED, 1000])
      yield* TestClock.adjust("60 seconds")
      assert.strictEqual((yield* outcomes).length, 1)
      yield* TestClock.adjust("1 second")
      const second = (yield* outcomes)[1]
      assert.deepStrictEqual([second.messageId, second.state, second.doneAt], [scheduled.id, MessageState.DELIVERED, 62_000])
    }))

  it.scoped("refuses a share of submits with the configured status", () =>
    Effect.gen(function*() {
      const { sim } = yield* start({
        submitErrors: [{ prefix: "4900", percent: 100, status: "ESME_RSUBMITFAIL" }, { prefix: "4901", percent: 100, status: 0x401 }]
      })
      assert.deepStrictEqual(yield* sim.submit(message({ destinationAddr: "4900123" })), {
        accepted: false,
        status: CommandStatus.ESME_RSUBMITFAIL
      })
      assert.deepStrictEqual(yield* sim.submit(message({ destinationAddr: "4901123" })), { accepted: false, status: 0x401 })
      accepted(yield* sim.submit(message({ destinationAddr: "4902123" })))
      assert.strictEqual(sim.pending(), 1)
    }))

  it.scoped("throttles beyond maxThroughput with ESME_RTHROTTLED", () =>
    Effect.gen(function*() {
      const { sim } = yield* start({ maxThroughput: 2 })
      const results = yield* Effect.forEach([1, 2, 3], () => sim.submit(message()))
      assert.deepStrictEqual(results.map((r) => r.accepted), [true, true, false])
      assert.deepStrictEqual(results[2], { accepted: false, status: CommandStatus.ESME_RTHROTTLED })
      yield* TestClock.adjust("500 millis")
      accepted(yield* sim.submit(message()))
    }))

  it.scoped("marks responses to drop, and the message still gets its outcome", () =>
    Effect.gen(function*() {
      const { outcomes, sim } = yield* start({ dropResponsePercent: 100, defaultDelay: 0 })
      const result = yield* sim.submit(message())
      assert.isTrue(result.accepted && result.dropResponse === true)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* outcomes).length, 1)
      const { sim: normal } = yield* start({})
      const plain = yield* normal.submit(message())
      assert.isTrue(plain.accepted && plain.dropResponse === undefined)
    }))

  it.scoped("echoes messages to a matching destination back as MO", () =>
    Effect.gen(function*() {
      const { mos, sim } = yield* start({ echo: { prefix: "999", delay: "3 seconds" } })
      const m = message({ destinationAddr: "999123", body: new TextEncoder().encode("echo me"), dataCoding: 3 })
      accepted(yield* sim.submit(m))
      accepted(yield* sim.submit(message({ destinationAddr: "4917" })))
      yield* TestClock.adjust("3 seconds")
      const all = yield* mos
      assert.strictEqual(all.length, 1)
      assert.strictEqual(all[0].account, "acme")
      assert.strictEqual(all[0].sourceAddr, "999123")
      assert.strictEqual(all[0].destinationAddr, "Acme")
      assert.strictEqual(all[0].destAddrTon, 5)
      assert.strictEqual(all[0].dataCoding, 3)
      assert.strictEqual(new TextDecoder().decode(all[0].body), "echo me")
      assert.strictEqual(all[0].receivedAt, 3000)
    }))

  it.scoped("sends scripted MOs after their delay and then periodically; injectMo on demand", () =>
    Effect.gen(function*() {
      const { mos, sim } = yield* start({
        mo: [{ account: "acme", sourceAddr: "4917", destinationAddr: "1234", text: "STOP", after: "10 seconds", every: "1 minute" }]
      })
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual((yield* mos).length, 0)
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* mos).length, 1)
      assert.deepStrictEqual((yield* mos)[0].body, new TextEncoder().encode("STOP"))
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual((yield* mos).length, 3)
      yield* sim.injectMo({ account: "other", sourceAddr: "4915", destinationAddr: "99", text: "Grüße ✓" }, "1 second")
      yield* TestClock.adjust("1 second")
      const injected = (yield* mos).find((m) => m.account === "other")!
      // ✓ is not in GSM 03.38: UCS-2
      assert.strictEqual(injected.dataCoding, 8)
      assert.strictEqual(injected.body.length, 14)
    }))

  it.scoped("the Default layer reads the simulator settings from GatewayConfig", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.Simulator
      assert.strictEqual(sim.name, "simulator")
      assert.deepStrictEqual(yield* sim.submit(message()), { accepted: false, status: CommandStatus.ESME_RMSGQFUL })
    }).pipe(
      Effect.provide(Simulator.Simulator.DefaultWithoutDependencies),
      Effect.provide(GatewayConfig.layer({
        ...GatewayConfig.defaults,
        simulator: settings({ submitErrors: [{ percent: 100, status: "ESME_RMSGQFUL" }] })
      }))
    ))
})
