import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { DataCoding } from "@effect-smpp/schema/DataCoding"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Udh from "@effect-smpp/schema/Udh"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import type * as BindState from "../src/BindState.js"
import * as Resend from "../src/Resend.js"
import * as MemorySocket from "../src/MemorySocket.js"
import * as SmppClient from "../src/SmppClient.js"
import * as SmppServer from "../src/SmppServer.js"
import * as TestKit from "../src/TestKit.js"
import type * as Transport from "../src/Transport.js"
import { rawPeer } from "./fixtures/rawPeer.js"

const text = (s: string) => new TextEncoder().encode(s)

/** Steps the TestClock by `step` until `fiber` is done (at most `steps` times). */
const stepUntilDone = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, step: Duration.DurationInput = "1 second", steps = 120) =>
  Effect.gen(function*() {
    for (let i = 0; i < steps && fiber.unsafePoll() === null; i++) yield* TestClock.adjust(step)
    return yield* Fiber.join(fiber)
  })

/** Steps the TestClock until the client is bound. */
const stepUntilBound = (client: SmppClient.SmppClient, step: Duration.DurationInput = "1 second") =>
  Effect.gen(function*() {
    for (let i = 0; i < 120; i++) {
      if ((yield* client.state)._tag === "Bound") return
      yield* TestClock.adjust(step)
    }
    assert.fail("the client never bound")
  })

const kit = (script?: TestKit.Script) =>
  Effect.gen(function*() {
    const smsc = yield* TestKit.makeSmsc(script)
    const client = yield* TestKit.makeClient(smsc, script)
    return { smsc, client }
  })

describe("SmppClient", () => {
  it.scoped("sends every kind of request a client sends", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit()
      const submit = yield* client.submitSm(Pdu.make("submit_sm", { destinationAddr: "4912345", shortMessage: text("hi") }))
      assert.deepStrictEqual([submit._tag, submit.commandStatus, submit.messageId], ["submit_sm_resp", 0, "1"])
      const multi = yield* client.submitMulti(
        Pdu.make("submit_multi", { destAddresses: [{ destFlag: 1, destAddrTon: 1, destAddrNpi: 1, destinationAddr: "49" }] })
      )
      assert.deepStrictEqual([multi._tag, multi.messageId], ["submit_multi_resp", "2"])
      const data = yield* client.dataSm(Pdu.make("data_sm", { destinationAddr: "4912345" }))
      assert.deepStrictEqual([data._tag, data.messageId], ["data_sm_resp", "3"])
      const query = yield* client.querySm(Pdu.make("query_sm", { messageId: "1" }))
      assert.deepStrictEqual([query._tag, query.messageState], ["query_sm_resp", MessageState.ENROUTE])
      const unknown = yield* client.querySm(Pdu.make("query_sm", { messageId: "nope" }))
      assert.strictEqual(unknown.commandStatus, CommandStatus.ESME_RQUERYFAIL)
      const cancel = yield* client.cancelSm(Pdu.make("cancel_sm", { messageId: "1" }))
      assert.deepStrictEqual([cancel._tag, cancel.commandStatus], ["cancel_sm_resp", 0])
      const replace = yield* client.replaceSm(Pdu.make("replace_sm", { messageId: "1", shortMessage: text("x") }))
      assert.deepStrictEqual([replace._tag, replace.commandStatus], ["replace_sm_resp", 0])
      const replaceUnknown = yield* client.replaceSm(Pdu.make("replace_sm", { messageId: "9" }))
      assert.strictEqual(replaceUnknown.commandStatus, CommandStatus.ESME_RREPLACEFAIL)
      const link = yield* client.request(Pdu.make("enquire_link", {}))
      assert.strictEqual(link._tag, "enquire_link_resp")
      assert.strictEqual((yield* smsc.submitted).length, 1)
    }))

  for (const kind of ["transmitter", "receiver", "transceiver"] as const) {
    it.scoped(`binds as a ${kind}`, () =>
      Effect.gen(function*() {
        const received = yield* Queue.unbounded<SmppClient.Delivery>()
        const { client, smsc } = yield* kit({
          client: { bindKind: kind, onDelivery: (d) => Queue.offer(received, d) },
          deliverySchedule: Schedule.recurs(0)
        })
        yield* client.awaitBound
        const state = yield* client.state
        assert.strictEqual(state._tag === "Bound" ? state.kind : state._tag, kind)
        const [info] = yield* smsc.server.sessions
        assert.deepStrictEqual([info!.systemId, info!.kind], ["test", kind])
        const submitted = yield* Effect.either(client.submit({ from: "me", to: "+4912345", text: "hello" }))
        const delivered = yield* Effect.either(smsc.injectMo({ from: "4912345", to: "me", text: "mo" }))
        if (kind === "receiver") {
          assert.isTrue(Either.isLeft(submitted))
          if (Either.isLeft(submitted)) assert.strictEqual(submitted.left.reason, "NotBound")
          assert.isTrue(Either.isRight(delivered))
          assert.strictEqual((yield* Queue.take(received))._tag, "MoMessage")
        } else if (kind === "transmitter") {
          assert.isTrue(Either.isRight(submitted))
          // No receiver session: the one-attempt schedule gives up.
          assert.isTrue(Either.isLeft(delivered))
        } else {
          assert.isTrue(Either.isRight(submitted))
          assert.isTrue(Either.isRight(delivered))
          assert.strictEqual((yield* Queue.take(received))._tag, "MoMessage")
        }
      }))
  }

  it.scoped("a refused bind shows its status, and requests fail NotBound after requestTimeout", () =>
    Effect.gen(function*() {
      const smsc = yield* TestKit.makeSmsc({ password: "right" })
      const client = yield* SmppClient.make({
        systemId: "test",
        password: "wrong",
        connect: smsc.connect,
        requestTimeout: "5 seconds"
      })
      const disconnected = yield* client.stateChanges.pipe(
        Stream.filter((s) => s._tag === "Disconnected"),
        Stream.runHead
      )
      const state = Option.getOrThrow(disconnected)
      assert.strictEqual(state._tag, "Disconnected")
      if (state._tag === "Disconnected") {
        assert.deepStrictEqual([state.error.reason, state.error.status], ["BindRefused", CommandStatus.ESME_RINVPASWD])
      }
      const fiber = yield* Effect.fork(client.submit({ from: "me", to: "+4912345", text: "x" }))
      const error = yield* Effect.flip(stepUntilDone(fiber))
      assert.strictEqual(error.reason, "NotBound")
      assert.strictEqual((error.cause as SmppClient.NotBound).reason, "Timeout")
    }))

  it.scoped("an SMSC that leaves three enquire_links unanswered is left; the client reconnects on its schedule", () =>
    Effect.gen(function*() {
      const smsc = yield* TestKit.makeSmsc()
      let dials = 0
      const silentPeers: Array<Array<Pdu.Pdu>> = []
      // The first connection goes to an SMSC that binds and then answers nothing.
      const connect: Transport.Dialer = Effect.suspend(() => {
        dials++
        if (dials > 1) return smsc.connect
        return Effect.gen(function*() {
          const [a, b] = yield* MemorySocket.makePair()
          const peer = yield* rawPeer(b, (pdu) =>
            pdu._tag === "bind_transceiver"
              ? Pdu.make("bind_transceiver_resp", { sequenceNumber: pdu.sequenceNumber, systemId: "silent" })
              : undefined)
          silentPeers.push(peer.received)
          return { socket: a, peer: "memory:silent" }
        })
      })
      const client = yield* SmppClient.make({
        systemId: "test",
        password: "test",
        connect,
        reconnect: Schedule.spaced("5 seconds")
      })
      yield* client.awaitBound
      const states: Array<string> = []
      yield* Effect.forkScoped(Stream.runForEach(client.stateChanges, (s) => Effect.sync(() => states.push(s._tag))))
      // idle 30 s → enquire_link; unanswered 30 s → again, three times: dead at ~120 s.
      for (let i = 0; i < 12; i++) yield* TestClock.adjust("10 seconds")
      assert.strictEqual(silentPeers[0]!.filter((p) => p._tag === "enquire_link").length, 3)
      assert.deepStrictEqual(states.slice(0, 2), ["Bound", "Disconnected"])
      assert.strictEqual(dials, 1)
      const disconnected = yield* client.state
      if (disconnected._tag === "Disconnected") {
        assert.strictEqual(disconnected.error.reason, "ConnectionLost")
        assert.strictEqual((disconnected.error.cause as { reason: string }).reason, "KeepaliveDead")
      } else {
        assert.fail(`expected Disconnected, got ${disconnected._tag}`)
      }
      // The schedule: 5 s later, a new connection (to the real SMSC this time).
      yield* TestClock.adjust("5 seconds")
      yield* client.awaitBound
      assert.strictEqual(dials, 2)
      assert.strictEqual((yield* client.submit({ from: "me", to: "+49123", text: "back" })).messageIds.length, 1)
    }))

  it.scoped("a throttled submit is retried on its schedule, then succeeds", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit()
      yield* smsc.throttle(2)
      const fiber = yield* Effect.fork(client.submit({ from: "me", to: "+4912345", text: "slow down" }))
      yield* client.awaitBound
      // Retries ~1 s, then ~2 s later (±20%).
      yield* TestClock.adjust("900 millis")
      assert.isAtMost((yield* smsc.submitted).length, 2)
      const result = yield* stepUntilDone(fiber, "500 millis")
      assert.deepStrictEqual(result.messageIds, ["1"])
      const statuses = (yield* smsc.submitted).map((s) => s.status)
      assert.deepStrictEqual(statuses, [CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RTHROTTLED, 0])
    }))

  it.scoped("throttling past the retry policy is a SubmitError with the last status", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit()
      yield* smsc.throttle(10, CommandStatus.ESME_RMSGQFUL)
      const fiber = yield* Effect.fork(client.submit(
        { from: "me", to: "+4912345", text: "x" },
        { retry: Schedule.recurs(2) }
      ))
      const error = yield* Effect.flip(stepUntilDone(fiber))
      assert.deepStrictEqual([error.reason, error.status], ["Rejected", CommandStatus.ESME_RMSGQFUL])
      assert.strictEqual((yield* smsc.submitted).length, 3)
    }))

  it.scoped("a final status is not retried", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit()
      yield* smsc.reject(1, CommandStatus.ESME_RINVDSTADR)
      const error = yield* Effect.flip(client.submit({ from: "me", to: "+4912345", text: "x" }))
      assert.deepStrictEqual([error._tag, error.reason, error.status, error.parts], [
        "SubmitError",
        "Rejected",
        CommandStatus.ESME_RINVDSTADR,
        1
      ])
      assert.strictEqual((yield* smsc.submitted).length, 1)
    }))

  it.scoped("a dropped response times out and is retried", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit({ client: { session: { responseTimeout: "10 seconds" } } })
      yield* client.awaitBound
      yield* smsc.dropResponses(1)
      const fiber = yield* Effect.fork(client.submit({ from: "me", to: "+4912345", text: "x" }))
      const result = yield* stepUntilDone(fiber)
      assert.deepStrictEqual(result.messageIds, ["1"])
      assert.deepStrictEqual((yield* smsc.submitted).map((s) => s.status), [undefined, 0])
    }))

  it.scoped("long text is split into parts, each with its id", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit({ client: { session: { windowSize: 2 } } })
      const long = "0123456789".repeat(40) // 400 GSM characters: 3 parts of ≤ 153
      const result = yield* client.submit({ from: "Shop", to: "+4912345678", text: long, registeredDelivery: true })
      assert.deepStrictEqual(result.messageIds, ["1", "2", "3"])
      assert.strictEqual(result.dataCoding, DataCoding.SMSC_DEFAULT)
      const pdus = (yield* smsc.submitted).map((s) => s.pdu)
      assert.strictEqual(pdus.length, 3)
      const udhs = pdus.map((pdu) => Either.getOrThrow(Udh.parse(pdu.shortMessage)))
      assert.deepStrictEqual(udhs.map((u) => [u.concat?.total, u.concat?.seqNum]), [[3, 1], [3, 2], [3, 3]])
      assert.strictEqual(new Set(udhs.map((u) => u.concat?.reference)).size, 1)
      assert.strictEqual(udhs.map((u) => new TextDecoder().decode(u.payload)).join(""), long)
      for (const pdu of pdus) {
        assert.deepStrictEqual([pdu.esmClass & 0x40, pdu.registeredDelivery, pdu.sourceAddr, pdu.sourceAddrTon], [
          0x40,
          1,
          "Shop",
          5
        ])
        assert.deepStrictEqual([pdu.destinationAddr, pdu.destAddrTon, pdu.destAddrNpi], ["4912345678", 1, 1])
      }
    }))

  it.scoped("Unicode text goes as UCS-2; SAR and payload splitting", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit()
      const unicode = yield* client.submit({ from: "me", to: "+49123", text: "Привет 👋" })
      assert.strictEqual(unicode.dataCoding, DataCoding.UCS2)
      const sar = yield* client.submit({ from: "me", to: "+49123", text: "ü".repeat(200), splitting: "sar" })
      assert.strictEqual(sar.messageIds.length, 2)
      const payload = yield* client.submit({ from: "me", to: "+49123", text: "x".repeat(500), splitting: "payload" })
      assert.strictEqual(payload.messageIds.length, 1)
      const pdus = (yield* smsc.submitted).map((s) => s.pdu)
      assert.strictEqual(pdus[0]!.dataCoding, DataCoding.UCS2)
      assert.deepStrictEqual(pdus.slice(1, 3).map((p) => [p.tlvs.sarTotalSegments, p.tlvs.sarSegmentSeqnum]), [[2, 1], [2, 2]])
      assert.strictEqual(pdus[3]!.tlvs.messagePayload?.length, 500)
      assert.strictEqual(pdus[3]!.shortMessage.length, 0)
    }))

  it.scoped("a message that cannot be encoded is an InvalidMessage error, sent nowhere", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit()
      const error = yield* Effect.flip(client.submit({ from: "me", to: "+49123", text: "€", dataCoding: DataCoding.LATIN1 }))
      assert.strictEqual(error.reason, "InvalidMessage")
      const none = yield* Effect.flip(client.submit({ from: "me", to: "+49123" }))
      assert.strictEqual(none.reason, "InvalidMessage")
      assert.strictEqual((yield* smsc.submitted).length, 0)
    }))

  it.scoped("a deliver_sm is re-sent until the handler succeeds", () =>
    Effect.gen(function*() {
      let calls = 0
      const handled: Array<string> = []
      const outcomes: Array<Resend.Outcome> = []
      const { client, smsc } = yield* kit({
        // The SMSC's own policy, watched: what each unacknowledged attempt was answered.
        deliverySchedule: Resend.deliveryPolicy().pipe(
          Schedule.tapInput((outcome: Resend.Outcome) => Effect.sync(() => outcomes.push(outcome)))
        ),
        client: {
          onDelivery: (delivery) =>
            Effect.suspend(() => {
              calls++
              if (calls <= 2) return Effect.fail("not now")
              handled.push(delivery._tag === "MoMessage" ? delivery.text : delivery.messageId)
              return Effect.void
            })
        }
      })
      yield* client.awaitBound
      const fiber = yield* Effect.fork(smsc.injectMo({ from: "4912345", to: "1234", text: "hello" }))
      yield* stepUntilDone(fiber, "500 millis")
      assert.strictEqual(calls, 3)
      assert.deepStrictEqual(outcomes, [CommandStatus.ESME_RX_T_APPN, CommandStatus.ESME_RX_T_APPN])
      assert.deepStrictEqual(handled, ["hello"])
    }))

  it.scoped("concatenated MO messages are reassembled; receipts are parsed", () =>
    Effect.gen(function*() {
      const received = yield* Queue.unbounded<SmppClient.Delivery>()
      const { client, smsc } = yield* kit({ client: { onDelivery: (d) => Queue.offer(received, d) } })
      const long = "Grüße aus Köln! ".repeat(20)
      yield* smsc.injectMo({ from: "4912345", to: "1234", text: long })
      const mo = yield* Queue.take(received)
      assert.strictEqual(mo._tag, "MoMessage")
      if (mo._tag === "MoMessage") {
        assert.deepStrictEqual([mo.text, mo.parts, mo.source.addr, mo.destination.addr], [long, 3, "4912345", "1234"])
      }
      const sar = "y".repeat(300)
      yield* smsc.injectMo({ from: "4912345", to: "1234", text: sar, splitting: "sar" })
      const sarMo = yield* Queue.take(received)
      assert.deepStrictEqual(sarMo._tag === "MoMessage" ? [sarMo.text, sarMo.parts] : [], [sar, 2])
      const { messageIds } = yield* client.submit({ from: "me", to: "+4912345", text: "hi" })
      yield* Fiber.join(yield* smsc.pushReceipt(messageIds[0]!, { stat: "UNDELIV", err: "042" }))
      const receipt = yield* Queue.take(received)
      assert.strictEqual(receipt._tag, "Receipt")
      if (receipt._tag === "Receipt") {
        assert.deepStrictEqual(
          [receipt.messageId, receipt.state, receipt.stat, receipt.error, receipt.source.addr],
          [messageIds[0], MessageState.UNDELIVERABLE, "UNDELIV", "042", "4912345"]
        )
        assert.strictEqual(receipt.receipt?.text, "hi")
      }
    }))

  it.scoped("deliveries: acknowledged once the consumer is done; none without a consumer", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit()
      yield* client.awaitBound
      // Nobody consumes: answered ESME_RX_T_APPN, so a one-attempt delivery is refused.
      const early = yield* Effect.flip(
        smsc.server.deliver("test", Pdu.make("deliver_sm", { shortMessage: text("early") }), { schedule: Schedule.recurs(0) })
      )
      assert.deepStrictEqual([early.reason, early.status], ["Exhausted", CommandStatus.ESME_RX_T_APPN])
      const seen = yield* Queue.unbounded<string>()
      const proceed = yield* Deferred.make<void>()
      yield* Effect.forkScoped(
        Stream.runForEach(client.deliveries, (d) =>
          Effect.zipRight(
            Queue.offer(seen, d._tag === "MoMessage" ? d.text : ""),
            Deferred.await(proceed)
          ))
      )
      yield* Effect.yieldNow()
      const delivery = yield* Effect.fork(smsc.injectMo({ from: "1", to: "2", text: "late" }))
      assert.strictEqual(yield* Queue.take(seen), "late")
      // Taken, but not processed yet: not acknowledged.
      yield* Effect.yieldNow()
      assert.isNull(delivery.unsafePoll())
      yield* Deferred.succeed(proceed, undefined)
      // Acknowledged when the consumer pulls the next one.
      yield* Fiber.join(delivery)
    }))

  it.scoped("handleDeliveries: a failing handler means ESME_RX_T_APPN, then the retry is handled", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit()
      let calls = 0
      yield* Effect.forkScoped(client.handleDeliveries(() =>
        Effect.suspend(() => (++calls === 1 ? Effect.fail("busy") : Effect.void))
      ))
      yield* Effect.yieldNow()
      const fiber = yield* Effect.fork(smsc.injectMo({ from: "1", to: "2", text: "x" }))
      yield* stepUntilDone(fiber, "500 millis")
      assert.strictEqual(calls, 2)
    }))

  it.scoped("a request made while disconnected waits for the rebind", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit({ client: { reconnect: Schedule.spaced("3 seconds") } })
      yield* client.awaitBound
      yield* smsc.setReachable(false)
      yield* smsc.disconnect
      yield* client.stateChanges.pipe(Stream.filter((s) => s._tag === "Disconnected"), Stream.runHead)
      const fiber = yield* Effect.fork(client.submit({ from: "me", to: "+49123", text: "patient" }))
      yield* TestClock.adjust("10 seconds")
      assert.isNull(fiber.unsafePoll())
      yield* smsc.setReachable(true)
      const result = yield* stepUntilDone(fiber)
      assert.deepStrictEqual(result.messageIds, ["1"])
      assert.strictEqual(yield* smsc.connections, 2)
    }))

  it.scoped("unsafeRequest: answered through its callback, at once when bound, after the rebind when not", () =>
    Effect.gen(function*() {
      const { client, smsc } = yield* kit({ client: { reconnect: Schedule.spaced("3 seconds"), requestTimeout: "20 seconds" } })
      const submitSm = (text_: string) => Pdu.make("submit_sm", { destinationAddr: "4912345", shortMessage: text(text_) })
      /** The next outcome of an unsafeRequest, as an Effect. */
      type Outcome = Exit.Exit<Pdu.SubmitSmResp, SmppClient.CallError>
      const outcome = (call: (onDone: (exit: Outcome) => void) => void) =>
        Effect.async<Outcome>((resume) => call((exit) => resume(Effect.succeed(exit))))
      yield* client.awaitBound
      const bound = yield* outcome((onDone) => client.unsafeRequest(submitSm("bound"), onDone))
      assert.isTrue(Exit.isSuccess(bound))
      if (Exit.isSuccess(bound)) assert.deepStrictEqual([bound.value._tag, bound.value.messageId], ["submit_sm_resp", "1"])

      // Disconnected: the call waits for the rebind, as `request` does.
      yield* smsc.setReachable(false)
      yield* smsc.disconnect
      yield* client.stateChanges.pipe(Stream.filter((s) => s._tag === "Disconnected"), Stream.runHead)
      const later: { exit?: Outcome } = {}
      client.unsafeRequest(submitSm("later"), (exit) => {
        later.exit = exit
      })
      yield* TestClock.adjust("10 seconds")
      assert.isUndefined(later.exit)
      yield* smsc.setReachable(true)
      const answer = () => later.exit
      for (let i = 0; i < 30 && answer() === undefined; i++) yield* TestClock.adjust("1 second")
      const exit = answer()
      if (exit !== undefined && Exit.isSuccess(exit)) assert.strictEqual(exit.value.messageId, "2")
      else assert.fail(`the waiting call did not succeed: ${String(exit)}`)
      assert.deepStrictEqual((yield* smsc.submitted).length, 2)
    }))

  it.scoped("unsafeRequest on a receiver fails NotBound ReceiverOnly at once", () =>
    Effect.gen(function*() {
      const { client } = yield* kit({ client: { bindKind: "receiver" } })
      yield* client.awaitBound
      const outcome: { exit?: Exit.Exit<Pdu.SubmitSmResp, SmppClient.CallError> } = {}
      client.unsafeRequest(Pdu.make("submit_sm", { destinationAddr: "49" }), (exit) => {
        outcome.exit = exit
      })
      for (let i = 0; i < 10 && outcome.exit === undefined; i++) yield* Effect.yieldNow()
      const exit = outcome.exit
      assert.isTrue(exit !== undefined && Exit.isFailure(exit))
      const error = exit !== undefined && Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      assert.deepStrictEqual(Option.map(error, (e) => [e._tag, (e as SmppClient.NotBound).reason]), Option.some(["NotBound", "ReceiverOnly"]))
    }))

  it.scoped("the connection state goes Connecting → Bound → Disconnected → Connecting → Bound", () =>
    Effect.gen(function*() {
      const smsc = yield* TestKit.makeSmsc()
      const client = yield* TestKit.makeClient(smsc, { client: { reconnect: Schedule.spaced("2 seconds") } })
      const states = yield* Queue.unbounded<string>()
      yield* Effect.forkScoped(
        Stream.runForEach(client.stateChanges, (s) =>
          Queue.offer(states, s._tag === "Bound" ? `Bound(${s.kind})` : s._tag))
      )
      yield* client.awaitBound
      yield* smsc.disconnect
      yield* TestClock.adjust("2 seconds")
      yield* stepUntilBound(client)
      const seen = Chunk.toReadonlyArray(yield* Queue.takeAll(states)).filter((s, i, all) => i === 0 || all[i - 1] !== s)
      assert.deepStrictEqual(seen.slice(-4), ["Bound(transceiver)", "Disconnected", "Connecting", "Bound(transceiver)"])
    }))

  it.scoped("closing the client's Scope unbinds; the state ends Stopped", () =>
    Effect.gen(function*() {
      const smsc = yield* TestKit.makeSmsc()
      const events = yield* smsc.server.subscribe
      const closed = yield* Effect.scoped(Effect.gen(function*() {
        const client = yield* TestKit.makeClient(smsc)
        yield* client.awaitBound
        return client
      }))
      const all = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
      const end = all.find((e) => e._tag === "Closed")
      assert.strictEqual(end?._tag === "Closed" ? end.reason.reason : undefined, "PeerUnbound")
      assert.strictEqual((yield* closed.state)._tag, "Stopped")
      const error = yield* Effect.flip(closed.submitSm(Pdu.make("submit_sm", {})))
      assert.deepStrictEqual([error._tag, (error as SmppClient.NotBound).reason], ["NotBound", "Stopped"])
    }))

  it.scoped("the reconnect schedule can give up", () =>
    Effect.gen(function*() {
      const smsc = yield* TestKit.makeSmsc()
      yield* smsc.setReachable(false)
      const client = yield* TestKit.makeClient(smsc, { client: { reconnect: Schedule.recurs(2) } })
      const stopped = yield* client.stateChanges.pipe(Stream.filter((s) => s._tag === "Stopped"), Stream.runHead)
      const state = Option.getOrThrow(stopped)
      assert.strictEqual(state._tag === "Stopped" ? state.error?.reason : undefined, "ConnectFailed")
      assert.strictEqual((yield* Effect.flip(client.awaitBound)).reason, "Stopped")
    }))

  it.scoped("talks to an SmppServer with handlers of its own, all three bind kinds", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({
        authenticate: SmppServer.passwords({ a: "pw" }),
        handlers: { submit_sm: (pdu, ctx) => Effect.succeed(Pdu.make("submit_sm_resp", { messageId: `${ctx.kind}:${pdu.destinationAddr}` })) }
      })
      const connect: Transport.Dialer = Effect.flatMap(MemorySocket.makePair({ maxChunkSize: 7 }), ([a, b]) =>
        Effect.as(server.handle(b), { socket: a, peer: "memory" }))
      const clients = yield* Effect.forEach(["transmitter", "receiver", "transceiver"] as const, (bindKind: BindState.BindKind) =>
        SmppClient.make({ systemId: "a", password: "pw", connect, bindKind }))
      yield* Effect.forEach(clients, (c) => c.awaitBound, { discard: true })
      assert.deepStrictEqual((yield* server.sessions).map((s) => s.state).sort(), ["BOUND_RX", "BOUND_TRX", "BOUND_TX"])
      const ids = yield* Effect.forEach([clients[0]!, clients[2]!], (c) => c.submit({ from: "x", to: "+49", text: "t" }))
      assert.deepStrictEqual(ids.map((r) => r.messageIds[0]), ["transmitter:49", "transceiver:49"])
      const session = Option.getOrThrow(yield* clients[1]!.session)
      assert.strictEqual(session.role, "esme")
      assert.strictEqual(yield* session.state, "BOUND_RX")
      // The raw request path refuses to send as a receiver.
      const refused = yield* Effect.flip(clients[1]!.request(Pdu.make("submit_sm", {})))
      assert.strictEqual(refused._tag, "NotBound")
    }))
})
