import * as Codec from "@effect-smpp/schema/Codec"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Pdu from "@effect-smpp/schema/Pdu"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import type * as BindState from "../src/BindState.js"
import * as MemorySocket from "../src/MemorySocket.js"
import * as Session from "../src/Session.js"
import * as SmppClient from "../src/SmppClient.js"
import * as SmppServer from "../src/SmppServer.js"
import type * as Transport from "../src/Transport.js"
import { rawPeer } from "./fixtures/rawPeer.js"

const text = (s: string) => new TextEncoder().encode(s)

const accounts = SmppServer.passwords({ alice: "secret", bob: "hunter2" })

/** An ESME session connected in memory to `server`. */
const connectEsme = (server: SmppServer.SmppServer, handler?: Session.Handler) =>
  Effect.gen(function*() {
    const [a, b] = yield* MemorySocket.makePair()
    yield* server.handle(b, { peer: "memory:test" })
    return yield* Session.make(a, { role: "esme", handler })
  })

const bindPdu = (kind: BindState.BindKind, systemId = "alice", password = "secret") =>
  Pdu.make(
    kind === "transmitter" ? "bind_transmitter" : kind === "receiver" ? "bind_receiver" : "bind_transceiver",
    { systemId, password }
  ) as Pdu.BindTransmitter

const bound = (server: SmppServer.SmppServer, kind: BindState.BindKind, handler?: Session.Handler, systemId = "alice") =>
  Effect.gen(function*() {
    const esme = yield* connectEsme(server, handler)
    const response = yield* esme.request(bindPdu(kind, systemId, systemId === "bob" ? "hunter2" : "secret"))
    assert.strictEqual(response.commandStatus, CommandStatus.ESME_ROK)
    return esme
  })

const deliverSm = (body: string) => Pdu.make("deliver_sm", { sourceAddr: "491700000", destinationAddr: "1234", shortMessage: text(body) })

describe("SmppServer", () => {
  it.scoped("accepts binds of all three kinds and lists the sessions", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts, systemId: "smsc-under-test" })
      const events = yield* server.subscribe
      for (const kind of ["transmitter", "receiver", "transceiver"] as const) {
        const esme = yield* connectEsme(server)
        const response = yield* esme.request(bindPdu(kind))
        assert.strictEqual(response.commandStatus, CommandStatus.ESME_ROK)
        assert.strictEqual(response._tag, `bind_${kind}_resp`)
        assert.strictEqual(response.systemId, "smsc-under-test")
        assert.strictEqual(response.tlvs.scInterfaceVersion, 0x34)
        assert.strictEqual(yield* esme.state, kind === "transmitter" ? "BOUND_TX" : kind === "receiver" ? "BOUND_RX" : "BOUND_TRX")
      }
      const sessions = yield* server.sessions
      assert.deepStrictEqual(sessions.map((s) => [s.systemId, s.kind, s.state, s.peer]), [
        ["alice", "transmitter", "BOUND_TX", "memory:test"],
        ["alice", "receiver", "BOUND_RX", "memory:test"],
        ["alice", "transceiver", "BOUND_TRX", "memory:test"]
      ])
      assert.isTrue(sessions.every((s) => s.stats.pdusIn >= 1 && s.boundAt !== undefined))
      assert.strictEqual((yield* server.sessionsOf("alice")).length, 3)
      assert.strictEqual((yield* server.sessionsOf("bob")).length, 0)
      const seen = Chunk.toReadonlyArray(yield* Queue.takeAll(events)).map((e) => e._tag)
      assert.deepStrictEqual(seen, ["Connected", "Bound", "Connected", "Bound", "Connected", "Bound"])
    }))

  it.scoped("refuses binds with the status authenticate answers", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({
        authenticate: (bind) =>
          bind.systemId === "boom"
            ? Effect.fail("database down")
            : bind.systemId === "locked"
            ? Effect.succeed(CommandStatus.ESME_RBINDFAIL)
            : accounts(bind)
      })
      const statusOf = (systemId: string, password: string) =>
        Effect.gen(function*() {
          const esme = yield* connectEsme(server)
          const response = yield* esme.request(Pdu.make("bind_transceiver", { systemId, password }))
          return [response.commandStatus, yield* esme.state] as const
        })
      assert.deepStrictEqual(yield* statusOf("nobody", "secret"), [CommandStatus.ESME_RINVSYSID, "OPEN"])
      assert.deepStrictEqual(yield* statusOf("alice", "wrong"), [CommandStatus.ESME_RINVPASWD, "OPEN"])
      assert.deepStrictEqual(yield* statusOf("locked", "x"), [CommandStatus.ESME_RBINDFAIL, "OPEN"])
      assert.deepStrictEqual(yield* statusOf("boom", "x"), [CommandStatus.ESME_RBINDFAIL, "OPEN"])
      assert.deepStrictEqual(yield* statusOf("alice", "secret"), [CommandStatus.ESME_ROK, "BOUND_TRX"])
      const bound = (yield* server.sessions).filter((s) => s.systemId !== undefined)
      assert.strictEqual(bound.length, 1)
    }))

  it.scoped("a second bind on a bound session is ESME_RALYBND", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const esme = yield* connectEsme(server)
      yield* esme.request(bindPdu("transceiver"))
      // Sent raw: the session itself would refuse to send a bind when bound.
      const [a, b] = yield* MemorySocket.makePair()
      yield* server.handle(b)
      const responses: Array<Pdu.Pdu> = []
      const peer = yield* rawPeer(a, (pdu) => {
        responses.push(pdu)
        return undefined
      })
      yield* peer.send({ ...bindPdu("transceiver"), sequenceNumber: 1 })
      yield* peer.send({ ...bindPdu("transceiver"), sequenceNumber: 2 })
      while (responses.length < 2) yield* Effect.yieldNow()
      assert.deepStrictEqual(responses.map((r) => [r._tag, r.sequenceNumber, r.commandStatus]), [
        ["bind_transceiver_resp", 1, CommandStatus.ESME_ROK],
        ["bind_transceiver_resp", 2, CommandStatus.ESME_RALYBND]
      ])
    }))

  it.scoped("answers every request kind with its handler, in the sender's context", () =>
    Effect.gen(function*() {
      const contexts: Array<string> = []
      const server = yield* SmppServer.make({
        authenticate: accounts,
        handlers: {
          submit_sm: (pdu, context) =>
            Effect.sync(() => {
              contexts.push(`${context.systemId}/${context.kind}`)
              return Pdu.make("submit_sm_resp", { messageId: `s-${pdu.destinationAddr}` })
            }),
          submit_multi: (pdu) =>
            Effect.succeed(Pdu.make("submit_multi_resp", { messageId: `m-${pdu.destAddresses.length}`, unsuccessSmes: [] })),
          data_sm: () => Effect.succeed(Pdu.make("data_sm_resp", { messageId: "d-1" })),
          query_sm: (pdu) =>
            Effect.succeed(Pdu.make("query_sm_resp", { messageId: pdu.messageId, messageState: 2 })),
          cancel_sm: (pdu) => Effect.succeed(pdu.messageId === "known" ? 0 : CommandStatus.ESME_RCANCELFAIL),
          replace_sm: () => Effect.fail("no such message")
        }
      })
      const esme = yield* bound(server, "transceiver", undefined, "bob")
      const submit = yield* esme.request(Pdu.make("submit_sm", { destinationAddr: "4912345" }))
      assert.strictEqual(submit.messageId, "s-4912345")
      const multi = yield* esme.request(
        Pdu.make("submit_multi", {
          destAddresses: [{ destFlag: 1, destAddrTon: 1, destAddrNpi: 1, destinationAddr: "1" }, { destFlag: 2, dlName: "friends" }]
        })
      )
      assert.strictEqual(multi.messageId, "m-2")
      const data = yield* esme.request(Pdu.make("data_sm", { destinationAddr: "4912345" }))
      assert.strictEqual(data.messageId, "d-1")
      const query = yield* esme.request(Pdu.make("query_sm", { messageId: "q" }))
      assert.deepStrictEqual([query.messageId, query.messageState], ["q", 2])
      assert.strictEqual((yield* esme.request(Pdu.make("cancel_sm", { messageId: "known" }))).commandStatus, 0)
      assert.strictEqual(
        (yield* esme.request(Pdu.make("cancel_sm", { messageId: "other" }))).commandStatus,
        CommandStatus.ESME_RCANCELFAIL
      )
      // A failing handler: ESME_RSYSERR.
      assert.strictEqual(
        (yield* esme.request(Pdu.make("replace_sm", { messageId: "x" }))).commandStatus,
        CommandStatus.ESME_RSYSERR
      )
      assert.deepStrictEqual(contexts, ["bob/transceiver"])
    }))

  it.scoped("answers a request without a handler with ESME_RINVCMDID", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const esme = yield* bound(server, "transmitter")
      const response = yield* esme.request(Pdu.make("submit_sm", { destinationAddr: "1" }))
      assert.strictEqual(response.commandStatus, CommandStatus.ESME_RINVCMDID)
    }))

  it.scoped("delivers round robin to the receiver-capable sessions of the account", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const got: Array<string> = []
      const handler = (name: string): Session.Handler => (request) =>
        Effect.sync(() => {
          got.push(`${name}:${request._tag}`)
          return CommandStatus.ESME_ROK
        })
      yield* bound(server, "transmitter", handler("tx"))
      yield* bound(server, "receiver", handler("rx"))
      yield* bound(server, "transceiver", handler("trx"))
      yield* bound(server, "transceiver", handler("bob"), "bob")
      for (let i = 0; i < 4; i++) {
        const response = yield* server.deliver("alice", deliverSm(`m${i}`))
        assert.strictEqual(response._tag, "deliver_sm_resp")
        assert.strictEqual(response.commandStatus, CommandStatus.ESME_ROK)
      }
      const data = yield* server.deliver("alice", Pdu.make("data_sm", { sourceAddr: "1", destinationAddr: "2" }))
      assert.strictEqual(data._tag, "data_sm_resp")
      assert.deepStrictEqual(got, ["rx:deliver_sm", "trx:deliver_sm", "rx:deliver_sm", "trx:deliver_sm", "rx:data_sm"])
    }))

  it.scoped("re-sends a delivery until ESME_ROK: ESME_RX_T_APPN and no answer mean later", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts, session: { responseTimeout: "10 seconds" } })
      let calls = 0
      const attempts = yield* Queue.unbounded<number>()
      yield* bound(server, "receiver", () =>
        Effect.sync(() => {
          calls++
          Queue.unsafeOffer(attempts, calls)
          return calls === 1 ? CommandStatus.ESME_RX_T_APPN : calls === 2 ? Session.noResponse : CommandStatus.ESME_ROK
        }))
      const fiber = yield* Effect.fork(server.deliver("alice", deliverSm("receipt")))
      assert.strictEqual(yield* Queue.take(attempts), 1)
      assert.isNull(fiber.unsafePoll())
      // First retry after ~1 s (jittered ±20%): unanswered; its timeout is 10 s; then ~2 s more.
      for (let i = 0; i < 20 && fiber.unsafePoll() === null; i++) yield* TestClock.adjust("1 second")
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.commandStatus, CommandStatus.ESME_ROK)
      assert.strictEqual(calls, 3)
    }))

  it.scoped("ESME_RX_P_APPN and ESME_RX_R_APPN are final", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      let calls = 0
      let status: number = CommandStatus.ESME_RX_P_APPN
      yield* bound(server, "receiver", () =>
        Effect.sync(() => {
          calls++
          return status
        }))
      const first = yield* Effect.either(server.deliver("alice", deliverSm("x")))
      assert.isTrue(Either.isLeft(first))
      const error = Either.getLeft(first).pipe((o) => (o._tag === "Some" ? o.value : undefined))!
      assert.deepStrictEqual([error.reason, error.status, error.systemId], ["Refused", CommandStatus.ESME_RX_P_APPN, "alice"])
      status = CommandStatus.ESME_RX_R_APPN
      const second = yield* Effect.flip(server.deliver("alice", deliverSm("y")))
      assert.deepStrictEqual([second.reason, second.status], ["Refused", CommandStatus.ESME_RX_R_APPN])
      assert.strictEqual(calls, 2)
    }))

  it.scoped("gives up when the delivery schedule does", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      // No receiver bound, and a schedule of one attempt: nothing to wait for.
      const error = yield* Effect.flip(server.deliver("alice", deliverSm("x"), { schedule: Schedule.recurs(0) }))
      assert.deepStrictEqual([error._tag, error.reason, error.status], ["DeliveryError", "Exhausted", undefined])
    }))

  it.scoped("a delivery waits for a receiver to bind", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const fiber = yield* Effect.fork(server.deliver("alice", deliverSm("waiting")))
      yield* TestClock.adjust("500 millis")
      assert.isNull(fiber.unsafePoll())
      const got = yield* Deferred.make<string>()
      yield* bound(server, "transceiver", (request) =>
        Effect.as(Deferred.succeed(got, request._tag), CommandStatus.ESME_ROK))
      // Woken by the bind, not by the schedule: no clock step needed.
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.commandStatus, CommandStatus.ESME_ROK)
      assert.strictEqual(yield* Deferred.await(got), "deliver_sm")
    }))

  it.scoped("a delivery moves to another session of the account when its session closes", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const reached = yield* Deferred.make<void>()
      const first = yield* bound(server, "receiver", () =>
        Effect.as(Deferred.succeed(reached, undefined), Session.noResponse))
      let second = 0
      yield* bound(server, "receiver", () =>
        Effect.sync(() => {
          second++
          return CommandStatus.ESME_ROK
        }))
      const fiber = yield* Effect.fork(server.deliver("alice", deliverSm("x")))
      yield* Deferred.await(reached)
      yield* first.abort
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.commandStatus, CommandStatus.ESME_ROK)
      assert.strictEqual(second, 1)
    }))

  it.scoped("closes a session whose peer leaves three enquire_links unanswered; the others live on", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const closed = yield* Deferred.make<SmppServer.ServerEvent>()
      yield* Effect.forkScoped(Stream.runForEach(server.events, (e) =>
        e._tag === "Closed" ? Deferred.succeed(closed, e) : Effect.void))
      yield* Effect.yieldNow()
      const [a, b] = yield* MemorySocket.makePair()
      yield* server.handle(b)
      // Binds, then answers nothing.
      const silent = yield* rawPeer(a, (pdu) =>
        pdu._tag === "bind_transceiver" ? Pdu.make("bind_transceiver_resp", { sequenceNumber: pdu.sequenceNumber }) : undefined)
      yield* silent.send({ ...bindPdu("transceiver"), sequenceNumber: 1 })
      // A healthy session beside it.
      const healthy = yield* bound(server, "transceiver")
      for (let i = 0; i < 13 && !(yield* Deferred.isDone(closed)); i++) yield* TestClock.adjust("10 seconds")
      const event = yield* Deferred.await(closed)
      assert.strictEqual(event._tag, "Closed")
      if (event._tag === "Closed") assert.strictEqual(event.reason.reason, "KeepaliveDead")
      assert.strictEqual(silent.received.filter((p) => p._tag === "enquire_link").length, 3)
      assert.strictEqual(yield* healthy.state, "BOUND_TRX")
      assert.deepStrictEqual((yield* server.sessions).map((s) => s.state), ["BOUND_TRX"])
    }))

  it.scoped("closes a connection that does not bind within session_init (10 s)", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const esme = yield* connectEsme(server)
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual((yield* server.sessions).length, 1)
      yield* TestClock.adjust("2 seconds")
      const reason = yield* esme.closed
      assert.strictEqual(reason.reason, "PeerClosed")
      assert.strictEqual((yield* server.sessions).length, 0)
    }))

  it.scoped("closing the server's Scope unbinds every session", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* Scope.extend(SmppServer.make({ authenticate: accounts }), scope)
      // The ESMEs live in the test's Scope: only the server closes.
      const esmes = yield* Effect.all([bound(server, "transceiver"), bound(server, "receiver"), bound(server, "transmitter")])
      yield* Scope.close(scope, Exit.void)
      for (const esme of esmes) assert.strictEqual((yield* esme.closed).reason, "PeerUnbound")
    }))

  it.scoped("a delivery waiting for a receiver fails ServerClosed when the server shuts down", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* Scope.extend(SmppServer.make({ authenticate: accounts }), scope)
      const fiber = yield* Effect.fork(server.deliver("alice", deliverSm("x")))
      yield* TestClock.adjust("5 seconds")
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.deepStrictEqual([error.reason, error.systemId], ["ServerClosed", "alice"])
    }))

  it.scoped("disconnect closes one session", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const one = yield* bound(server, "transceiver")
      const two = yield* bound(server, "transceiver")
      const [first] = yield* server.sessions
      assert.isTrue(yield* server.disconnect(first!.id))
      assert.strictEqual((yield* one.closed).reason, "PeerUnbound")
      assert.strictEqual(yield* two.state, "BOUND_TRX")
      assert.isFalse(yield* server.disconnect("no-such-session"))
    }))

  it.scoped("outbind: connects to the ESME, which binds as a receiver on that connection", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      // The ESME side accepts the connections the server opens.
      const incoming = yield* Queue.unbounded<Transport.Connection>()
      const connect: Transport.Dialer = Effect.flatMap(MemorySocket.makePair(), ([smscEnd, esmeEnd]) =>
        Effect.as(Queue.offer(incoming, { socket: esmeEnd, peer: "memory:smsc" }), { socket: smscEnd, peer: "memory:esme" }))
      const received = yield* Queue.unbounded<SmppClient.Delivery>()
      const client = yield* SmppClient.make({
        systemId: "alice",
        password: "secret",
        outbind: { accept: Queue.take(incoming) },
        onDelivery: (delivery) => Queue.offer(received, delivery)
      })
      const info = yield* server.outbind({ systemId: "smsc", password: "pw", connect })
      assert.deepStrictEqual([info.systemId, info.kind, info.state], ["alice", "receiver", "BOUND_RX"])
      yield* client.awaitBound
      const state = yield* client.state
      assert.deepStrictEqual(state._tag === "Bound" ? state.kind : state._tag, "receiver")
      yield* server.deliver("alice", deliverSm("via outbind"))
      const delivery = yield* Queue.take(received)
      assert.strictEqual(delivery._tag === "MoMessage" ? delivery.text : "", "via outbind")
    }))

  it.scoped("an outbind that cannot connect fails", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const error = yield* Effect.flip(server.outbind({ systemId: "smsc", password: "pw", host: "127.0.0.1", port: 1 }))
      assert.strictEqual(error.reason, "Connect")
    }))

  it.scoped("a session whose handler dies is answered ESME_RSYSERR and keeps serving", () =>
    Effect.gen(function*() {
      let n = 0
      const server = yield* SmppServer.make({
        authenticate: accounts,
        handlers: {
          submit_sm: () => (++n === 1 ? Effect.die(new Error("bug")) : Effect.succeed(Pdu.make("submit_sm_resp", { messageId: "ok" })))
        }
      })
      const esme = yield* bound(server, "transmitter")
      assert.strictEqual((yield* esme.request(Pdu.make("submit_sm", {}))).commandStatus, CommandStatus.ESME_RSYSERR)
      assert.strictEqual((yield* esme.request(Pdu.make("submit_sm", {}))).messageId, "ok")
    }))

  it.scoped("a PDU that does not decode is refused without closing the session", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ authenticate: accounts })
      const [a, b] = yield* MemorySocket.makePair()
      yield* server.handle(b)
      const responses: Array<Pdu.Pdu> = []
      const peer = yield* rawPeer(a, (pdu) => {
        responses.push(pdu)
        return undefined
      })
      yield* peer.send({ ...bindPdu("transceiver"), sequenceNumber: 1 })
      while (responses.length < 1) yield* Effect.yieldNow()
      const write = yield* a.writer
      // An unknown command id: generic_nack ESME_RINVCMDID.
      const unknown = Codec.encodeHeader("enquire_link", 0, 7)
      unknown[7] = 0x77
      yield* write(unknown)
      yield* peer.send(Pdu.make("enquire_link", { sequenceNumber: 8 }))
      while (responses.length < 3) yield* Effect.yieldNow()
      assert.deepStrictEqual(responses.map((r) => [r._tag, r.sequenceNumber, r.commandStatus]), [
        ["bind_transceiver_resp", 1, 0],
        ["generic_nack", 7, CommandStatus.ESME_RINVCMDID],
        ["enquire_link_resp", 8, 0]
      ])
    }))
})
