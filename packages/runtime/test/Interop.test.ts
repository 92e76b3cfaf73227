/**
 * Interoperability with an independent implementation, node-smpp 0.5.1 (npm `smpp`), over real
 * sockets on 127.0.0.1 (port 0), in real time: node-smpp as an ESME against our SmppServer, and
 * as an SMSC against our SmppClient. Every test is bounded and closes what it opens.
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Text from "@effect-smpp/schema/Text"
import { assert, describe, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import smpp, { type PDU as NodePdu, type Session as NodeSession } from "smpp"
import * as SmppClient from "../src/SmppClient.js"
import * as SmppServer from "../src/SmppServer.js"

const HOST = "127.0.0.1"
const accounts = SmppServer.passwords({ alice: "secret" })
const ascii = (s: string) => new TextEncoder().encode(s)
const noop = () => {}

class NodeSmppError extends Data.TaggedError("NodeSmppError")<{ readonly reason: string; readonly cause?: unknown }> {}

// ---------------------------------------------------------------------------------------------
// node-smpp, wrapped in Effects

type Command =
  | "bind_transceiver"
  | "bind_transmitter"
  | "bind_receiver"
  | "submit_sm"
  | "deliver_sm"
  | "query_sm"
  | "enquire_link"
  | "unbind"

/** Sends a node-smpp request and waits for its response. */
const call = (session: NodeSession, command: Command, options: Record<string, unknown> = {}) =>
  Effect.async<NodePdu, NodeSmppError>((resume) => {
    const sent = session[command](options, (pdu: NodePdu) => resume(Effect.succeed(pdu)))
    if (!sent) resume(Effect.fail(new NodeSmppError({ reason: `${command}: the socket is not writable` })))
  })

/** Every PDU of one command node-smpp receives on a session, from now on. */
const inbox = (session: NodeSession, command: string) =>
  Effect.map(Queue.unbounded<NodePdu>(), (queue) => {
    session.on(command, (pdu: NodePdu) => Queue.unsafeOffer(queue, pdu))
    return queue
  })

/** Resolves once the node-smpp session's socket has closed. */
const closedSignal = (session: NodeSession) =>
  Effect.map(Deferred.make<void>(), (closed) => {
    session.socket.once("close", () => Deferred.unsafeDone(closed, Exit.void))
    return closed
  })

interface NodeEsme {
  readonly session: NodeSession
  readonly closed: Deferred.Deferred<void>
}

/** node-smpp as an ESME: connected (not bound yet), destroyed with the Scope. */
const connectEsme = (port: number): Effect.Effect<NodeEsme, NodeSmppError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<NodeSession, NodeSmppError>((resume) => {
      const session = smpp.connect({ host: HOST, port })
      // node-smpp re-emits socket errors; unheard, an 'error' event would throw.
      session.on("error", noop)
      const onClose = () => resume(Effect.fail(new NodeSmppError({ reason: "connection refused" })))
      session.once("close", onClose)
      session.once("connect", () => {
        session.off("close", onClose)
        resume(Effect.succeed(session))
      })
    }),
    (session) => Effect.sync(() => session.destroy())
  ).pipe(Effect.flatMap((session) => Effect.map(closedSignal(session), (closed) => ({ session, closed }))))

/** Answers every enquire_link node-smpp receives (node-smpp leaves that to the application). */
const answerEnquireLinks = (session: NodeSession): void => {
  session.on("enquire_link", (pdu: NodePdu) => session.send(pdu.response()))
}

/** node-smpp's decoded short_message: its UDH elements and its text. */
const messageOf = (pdu: NodePdu): { readonly udh: ReadonlyArray<Buffer>; readonly text: string } => {
  const value = pdu.short_message as { readonly udh?: ReadonlyArray<Buffer>; readonly message: string | Buffer }
  return { udh: value.udh ?? [], text: typeof value.message === "string" ? value.message : value.message.toString("latin1") }
}

/** Polls until `check` holds (every 20 ms); the test's own timeout bounds it. */
const eventually = (check: Effect.Effect<boolean>) =>
  Effect.repeat(check, { schedule: Schedule.spaced("20 millis"), until: (ok) => ok })

// ---------------------------------------------------------------------------------------------
// node-smpp as an SMSC

interface NodeSmsc {
  readonly port: number
  /** Every bind request it received, answered ESME_ROK for bob/pw, ESME_RINVPASWD otherwise. */
  readonly binds: Queue.Queue<NodePdu>
  /** Every submit_sm, answered with message_id `smsc-<n>`. */
  readonly submits: Queue.Queue<NodePdu>
  /** The bound sessions, most recent last. */
  readonly bound: Queue.Queue<NodeSession>
}

const nodeSmsc: Effect.Effect<NodeSmsc, NodeSmppError, Scope.Scope> = Effect.gen(function*() {
  const binds = yield* Queue.unbounded<NodePdu>()
  const submits = yield* Queue.unbounded<NodePdu>()
  const bound = yield* Queue.unbounded<NodeSession>()
  let n = 0
  const server = smpp.createServer({}, (session) => {
    session.on("error", noop)
    answerEnquireLinks(session)
    session.on("bind_transceiver", (pdu: NodePdu) => {
      Queue.unsafeOffer(binds, pdu)
      const ok = pdu.system_id === "bob" && pdu.password === "pw"
      session.send(
        pdu.response(ok ? { system_id: "node-smsc" } : { command_status: CommandStatus.ESME_RINVPASWD })
      )
      if (ok) Queue.unsafeOffer(bound, session)
    })
    session.on("submit_sm", (pdu: NodePdu) => {
      Queue.unsafeOffer(submits, pdu)
      session.send(pdu.response({ message_id: `smsc-${++n}` }))
    })
    session.on("query_sm", (pdu: NodePdu) => {
      session.send(pdu.response({
        message_id: pdu.message_id,
        final_date: "240102030405000+",
        message_state: MessageState.DELIVERED,
        error_code: 0
      }))
    })
    session.on("unbind", (pdu: NodePdu) => {
      session.send(pdu.response())
      session.close()
    })
  })
  server.on("error", noop)
  const port = yield* Effect.acquireRelease(
    Effect.async<number, NodeSmppError>((resume) => {
      server.once("error", (cause) => resume(Effect.fail(new NodeSmppError({ reason: "listen", cause }))))
      server.listen(0, HOST, () => {
        const address = server.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const session of server.sessions.slice()) session.destroy()
        server.close(() => resume(Effect.void))
      })
  )
  return { port, binds, submits, bound }
})

// ---------------------------------------------------------------------------------------------

describe("node-smpp as an ESME against SmppServer", () => {
  it.live("bind_transceiver, submit_sm answered with our id, a receipt delivered and acknowledged", () =>
    Effect.gen(function*() {
      let n = 0
      const submitted = yield* Queue.unbounded<Pdu.SubmitSm>()
      const server = yield* SmppServer.make({
        host: HOST,
        port: 0,
        authenticate: accounts,
        handlers: {
          submit_sm: (pdu) =>
            Effect.sync(() => {
              Queue.unsafeOffer(submitted, pdu)
              return Pdu.make("submit_sm_resp", { messageId: `msg-${++n}` })
            })
        }
      })
      const { session } = yield* connectEsme(server.address!.port)
      const delivered = yield* inbox(session, "deliver_sm")
      session.on("deliver_sm", (pdu: NodePdu) => session.send(pdu.response()))

      const bound = yield* call(session, "bind_transceiver", { system_id: "alice", password: "secret" })
      assert.strictEqual(bound.command, "bind_transceiver_resp")
      assert.strictEqual(bound.command_status, CommandStatus.ESME_ROK)
      assert.strictEqual(bound.system_id, "effect-smpp")
      const [info] = yield* server.sessionsOf("alice")
      assert.deepStrictEqual([info?.kind, info?.state], ["transceiver", "BOUND_TRX"])

      const resp = yield* call(session, "submit_sm", {
        source_addr: "Shop",
        destination_addr: "4912345678",
        registered_delivery: 1,
        short_message: "Hello from node-smpp"
      })
      assert.strictEqual(resp.command, "submit_sm_resp")
      assert.strictEqual(resp.command_status, CommandStatus.ESME_ROK)
      assert.strictEqual(resp.message_id, "msg-1")
      const request = yield* Queue.take(submitted)
      assert.strictEqual(request.sourceAddr, "Shop")
      assert.strictEqual(request.destinationAddr, "4912345678")
      assert.strictEqual(request.registeredDelivery, 1)
      assert.strictEqual(Text.decode(request.shortMessage, request.dataCoding), "Hello from node-smpp")

      // The delivery receipt, pushed by the server: node-smpp decodes it and acknowledges it.
      const receipt = "id:msg-1 sub:001 dlvrd:001 submit date:2401020304 done date:2401020305 stat:DELIVRD err:000 text:Hello from node-smp"
      const ack = yield* server.deliver(
        "alice",
        Pdu.make("deliver_sm", {
          sourceAddr: "4912345678",
          destinationAddr: "Shop",
          esmClass: 0x04,
          shortMessage: ascii(receipt),
          tlvs: { receiptedMessageId: "msg-1", messageState: MessageState.DELIVERED }
        })
      )
      assert.strictEqual(ack._tag, "deliver_sm_resp")
      assert.strictEqual(ack.commandStatus, CommandStatus.ESME_ROK)
      const dlr = yield* Queue.take(delivered)
      assert.strictEqual(dlr.esm_class, 0x04)
      assert.strictEqual(dlr.source_addr, "4912345678")
      assert.strictEqual(dlr.destination_addr, "Shop")
      assert.strictEqual(dlr.receipted_message_id, "msg-1")
      assert.strictEqual(dlr.message_state, MessageState.DELIVERED)
      assert.strictEqual(messageOf(dlr).text, receipt)
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("bind_transmitter and bind_receiver: each may do what its kind allows, deliveries go to the receiver", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({
        host: HOST,
        port: 0,
        authenticate: accounts,
        handlers: { submit_sm: () => Effect.succeed(Pdu.make("submit_sm_resp", { messageId: "tx-1" })) }
      })
      const tx = yield* connectEsme(server.address!.port)
      const rx = yield* connectEsme(server.address!.port)
      const toTx = yield* inbox(tx.session, "deliver_sm")
      const toRx = yield* inbox(rx.session, "deliver_sm")
      rx.session.on("deliver_sm", (pdu: NodePdu) => rx.session.send(pdu.response()))

      const txBound = yield* call(tx.session, "bind_transmitter", { system_id: "alice", password: "secret" })
      const rxBound = yield* call(rx.session, "bind_receiver", { system_id: "alice", password: "secret" })
      assert.deepStrictEqual(
        [txBound.command, txBound.command_status, rxBound.command, rxBound.command_status],
        ["bind_transmitter_resp", 0, "bind_receiver_resp", 0]
      )
      const kinds = (yield* server.sessionsOf("alice")).map((s) => `${s.kind}:${s.state}`).sort()
      assert.deepStrictEqual(kinds, ["receiver:BOUND_RX", "transmitter:BOUND_TX"])

      const submitted = yield* call(tx.session, "submit_sm", { destination_addr: "4912345678", short_message: "tx" })
      assert.deepStrictEqual([submitted.command_status, submitted.message_id], [0, "tx-1"])
      // A receiver may not submit.
      const refused = yield* call(rx.session, "submit_sm", { destination_addr: "4912345678", short_message: "rx" })
      assert.strictEqual(refused.command, "submit_sm_resp")
      assert.strictEqual(refused.command_status, CommandStatus.ESME_RINVBNDSTS)

      for (const text of ["mo 1", "mo 2"]) {
        const ack = yield* server.deliver(
          "alice",
          Pdu.make("deliver_sm", { sourceAddr: "4912345678", destinationAddr: "1234", shortMessage: ascii(text) })
        )
        assert.strictEqual(ack.commandStatus, CommandStatus.ESME_ROK)
      }
      const texts = [messageOf(yield* Queue.take(toRx)).text, messageOf(yield* Queue.take(toRx)).text]
      assert.deepStrictEqual(texts, ["mo 1", "mo 2"])
      assert.strictEqual(yield* Queue.size(toTx), 0)
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("enquire_link from node-smpp is answered, before and after the bind", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ host: HOST, port: 0, authenticate: accounts })
      const { session } = yield* connectEsme(server.address!.port)
      const before = yield* call(session, "enquire_link")
      assert.deepStrictEqual([before.command, before.command_status], ["enquire_link_resp", 0])
      yield* call(session, "bind_transceiver", { system_id: "alice", password: "secret" })
      for (let i = 0; i < 3; i++) {
        const resp = yield* call(session, "enquire_link")
        assert.strictEqual(resp.command, "enquire_link_resp")
        assert.strictEqual(resp.command_status, CommandStatus.ESME_ROK)
      }
      const [info] = yield* server.sessions
      assert.strictEqual(info?.state, "BOUND_TRX")
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("the server's enquire_link is answered by node-smpp: the session stays bound", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({
        host: HOST,
        port: 0,
        authenticate: accounts,
        session: { enquireLinkInterval: "50 millis", enquireLinkTimeout: "200 millis" }
      })
      const { session } = yield* connectEsme(server.address!.port)
      const received = yield* inbox(session, "enquire_link")
      answerEnquireLinks(session)
      yield* call(session, "bind_transceiver", { system_id: "alice", password: "secret" })
      yield* eventually(Effect.map(Queue.size(received), (n) => n >= 4))
      const [info] = yield* server.sessions
      assert.strictEqual(info?.state, "BOUND_TRX")
      assert.isAtLeast(info!.stats.enquireLinksSent, 4)
      // Every one answered but perhaps the one still in flight.
      assert.isAtLeast(info!.stats.responsesReceived, info!.stats.enquireLinksSent - 1)
      assert.strictEqual(info!.stats.unexpectedResponses, 0)
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("a node-smpp ESME that leaves enquire_link unanswered is dropped after three misses", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({
        host: HOST,
        port: 0,
        authenticate: accounts,
        session: { enquireLinkInterval: "50 millis", enquireLinkTimeout: "50 millis", maxMissedEnquireLinks: 3 }
      })
      const events = yield* server.subscribe
      const { closed, session } = yield* connectEsme(server.address!.port)
      const received = yield* inbox(session, "enquire_link")
      yield* call(session, "bind_transceiver", { system_id: "alice", password: "secret" })
      yield* Deferred.await(closed)
      assert.strictEqual(yield* Queue.size(received), 3)
      yield* eventually(Effect.map(server.sessions, (all) => all.length === 0))
      const reasons = Array.from(yield* Queue.takeAll(events)).flatMap((e) =>
        e._tag === "Closed" ? [e.reason.reason] : []
      )
      assert.deepStrictEqual(reasons, ["KeepaliveDead"])
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("unbind from node-smpp: unbind_resp, then the session closes", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ host: HOST, port: 0, authenticate: accounts })
      const events = yield* server.subscribe
      const { closed, session } = yield* connectEsme(server.address!.port)
      yield* call(session, "bind_transceiver", { system_id: "alice", password: "secret" })
      const resp = yield* call(session, "unbind")
      assert.deepStrictEqual([resp.command, resp.command_status], ["unbind_resp", 0])
      // The server closes the connection, and forgets the session.
      yield* Deferred.await(closed)
      let closedEvent: SmppServer.ServerEvent | undefined
      while (closedEvent === undefined) {
        const event = yield* Queue.take(events)
        if (event._tag === "Closed") closedEvent = event
      }
      assert.strictEqual(closedEvent._tag === "Closed" ? closedEvent.reason.reason : undefined, "PeerUnbound")
      yield* eventually(Effect.map(server.sessions, (all) => all.length === 0))
      assert.deepStrictEqual(yield* server.sessionsOf("alice"), [])
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("a wrong password is refused ESME_RINVPASWD, an unknown system_id ESME_RINVSYSID; the right one binds", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({ host: HOST, port: 0, authenticate: accounts })
      const events = yield* server.subscribe
      const { session } = yield* connectEsme(server.address!.port)
      const wrong = yield* call(session, "bind_transceiver", { system_id: "alice", password: "nope" })
      assert.strictEqual(wrong.command, "bind_transceiver_resp")
      assert.strictEqual(wrong.command_status, CommandStatus.ESME_RINVPASWD)
      const unknown = yield* call(session, "bind_transmitter", { system_id: "mallory", password: "secret" })
      assert.strictEqual(unknown.command, "bind_transmitter_resp")
      assert.strictEqual(unknown.command_status, CommandStatus.ESME_RINVSYSID)
      // Still open: node-smpp may try again on the same connection.
      const right = yield* call(session, "bind_transceiver", { system_id: "alice", password: "secret" })
      assert.strictEqual(right.command_status, CommandStatus.ESME_ROK)
      const refusals = Array.from(yield* Queue.takeAll(events)).flatMap((e) =>
        e._tag === "BindRefused" ? [`${e.systemId}:${e.status}`] : []
      )
      assert.deepStrictEqual(refusals, [`alice:${CommandStatus.ESME_RINVPASWD}`, `mallory:${CommandStatus.ESME_RINVSYSID}`])
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))
})

describe("node-smpp as an SMSC against SmppClient", () => {
  const clientOf = (port: number, options?: Partial<SmppClient.Config>) =>
    SmppClient.make({
      host: HOST,
      port,
      systemId: "bob",
      password: "pw",
      reconnect: Schedule.spaced("50 millis"),
      requestTimeout: "5 seconds",
      ...options
    })

  it.live("bind, then a long text submitted in parts that node-smpp receives with their UDH", () =>
    Effect.gen(function*() {
      const smsc = yield* nodeSmsc
      const client = yield* clientOf(smsc.port)
      yield* client.awaitBound
      const bind = yield* Queue.take(smsc.binds)
      assert.deepStrictEqual(
        [bind.system_id, bind.password, bind.interface_version, bind.command_status],
        ["bob", "pw", 0x34, 0]
      )

      // 415 GSM characters: three parts of at most 153.
      const text = Array.from({ length: 16 }, (_, i) => `segment ${String(i).padStart(2, "0")} of a long text`).join(" ")
      assert.strictEqual(text.length, 415)
      const { dataCoding, messageIds } = yield* client.submit({ from: "Shop", to: "+4912345678", text })
      assert.strictEqual(dataCoding, 0)
      assert.deepStrictEqual(messageIds, ["smsc-1", "smsc-2", "smsc-3"])

      const parts = Array.from(yield* Queue.takeAll(smsc.submits))
      assert.strictEqual(parts.length, 3)
      const decoded = parts.map((pdu) => {
        assert.strictEqual(pdu.source_addr, "Shop")
        assert.deepStrictEqual([pdu.source_addr_ton, pdu.source_addr_npi], [5, 0])
        assert.strictEqual(pdu.destination_addr, "4912345678")
        assert.deepStrictEqual([pdu.dest_addr_ton, pdu.dest_addr_npi], [1, 1])
        assert.strictEqual((pdu.esm_class as number) & 0x40, 0x40)
        const { text: partText, udh } = messageOf(pdu)
        // One information element: concatenation with an 8-bit reference (IEI 0, length 3).
        assert.strictEqual(udh.length, 1)
        const [iei, length, reference, total, seq] = udh[0]!
        assert.deepStrictEqual([iei, length, total], [0x00, 3, 3])
        return { reference: reference!, seq: seq!, text: partText }
      })
      assert.strictEqual(new Set(decoded.map((d) => d.reference)).size, 1)
      decoded.sort((a, b) => a.seq - b.seq)
      assert.deepStrictEqual(decoded.map((d) => d.seq), [1, 2, 3])
      assert.strictEqual(decoded.map((d) => d.text).join(""), text)
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("query_sm: node-smpp's query_sm_resp, parsed", () =>
    Effect.gen(function*() {
      const smsc = yield* nodeSmsc
      const client = yield* clientOf(smsc.port)
      const resp = yield* client.querySm(
        Pdu.make("query_sm", { messageId: "smsc-7", sourceAddrTon: 5, sourceAddr: "Shop" })
      )
      assert.strictEqual(resp._tag, "query_sm_resp")
      assert.strictEqual(resp.commandStatus, CommandStatus.ESME_ROK)
      assert.strictEqual(resp.messageId, "smsc-7")
      assert.strictEqual(resp.finalDate, "240102030405000+")
      assert.strictEqual(resp.messageState, MessageState.DELIVERED)
      assert.strictEqual(resp.errorCode, 0)
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("a receipt from node-smpp reaches onDelivery parsed; acknowledged once the handler succeeds", () =>
    Effect.gen(function*() {
      const smsc = yield* nodeSmsc
      const received = yield* Queue.unbounded<SmppClient.Delivery>()
      let calls = 0
      const client = yield* clientOf(smsc.port, {
        onDelivery: (delivery) =>
          Effect.suspend(() =>
            // The first attempt fails: the SMSC is told to send it again later.
            ++calls === 1 ? Effect.fail("not now") : Queue.offer(received, delivery)
          )
      })
      yield* client.awaitBound
      const session = yield* Queue.take(smsc.bound)
      const receipt = {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "4912345678",
        destination_addr: "Shop",
        esm_class: 0x04,
        data_coding: 0,
        short_message:
          "id:smsc-1 sub:001 dlvrd:001 submit date:2401020304 done date:2401020305 stat:DELIVRD err:000 text:Hello",
        receipted_message_id: "smsc-1",
        message_state: MessageState.DELIVERED
      }
      const first = yield* call(session, "deliver_sm", { ...receipt })
      assert.strictEqual(first.command, "deliver_sm_resp")
      assert.strictEqual(first.command_status, CommandStatus.ESME_RX_T_APPN)
      assert.strictEqual(yield* Queue.size(received), 0)
      const second = yield* call(session, "deliver_sm", { ...receipt })
      assert.strictEqual(second.command_status, CommandStatus.ESME_ROK)

      const delivery = yield* Queue.take(received)
      assert.strictEqual(delivery._tag, "Receipt")
      if (delivery._tag !== "Receipt") return
      assert.strictEqual(delivery.messageId, "smsc-1")
      assert.strictEqual(delivery.state, MessageState.DELIVERED)
      assert.strictEqual(delivery.stat, "DELIVRD")
      assert.strictEqual(delivery.error, "000")
      assert.deepStrictEqual(delivery.source, { addr: "4912345678", ton: 1, npi: 1 })
      assert.strictEqual(delivery.destination.addr, "Shop")
      const parsed = delivery.receipt!
      assert.strictEqual(parsed.id, "smsc-1")
      assert.deepStrictEqual([parsed.sub, parsed.dlvrd, parsed.text], ["001", "001", "Hello"])
      assert.deepStrictEqual(parsed.submitDate?.value, { year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 0 })
      assert.deepStrictEqual(parsed.doneDate?.value, { year: 2024, month: 1, day: 2, hour: 3, minute: 5, second: 0 })
      assert.strictEqual(parsed.messageState, MessageState.DELIVERED)
      assert.strictEqual(calls, 2)
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))

  it.live("node-smpp's server closes the connection: the client reconnects and binds again", () =>
    Effect.gen(function*() {
      const smsc = yield* nodeSmsc
      const client = yield* clientOf(smsc.port)
      const states: Array<string> = []
      yield* Effect.forkScoped(Stream.runForEach(client.stateChanges, (s) => Effect.sync(() => states.push(s._tag))))
      yield* client.awaitBound
      const first = yield* Queue.take(smsc.bound)
      const before = yield* client.submit({ from: "Shop", to: "+4912345678", text: "before" })
      assert.deepStrictEqual(before.messageIds, ["smsc-1"])
      const firstSession = yield* client.session
      // The SMSC drops the connection without an unbind.
      first.destroy()
      const second = yield* Queue.take(smsc.bound)
      assert.notStrictEqual(second, first)
      assert.strictEqual((yield* Queue.takeAll(smsc.binds)).length, 2)
      yield* client.awaitBound
      const after = yield* client.submit({ from: "Shop", to: "+4912345678", text: "after" })
      assert.deepStrictEqual(after.messageIds, ["smsc-2"])
      const secondSession = yield* client.session
      assert.isTrue(Option.isSome(firstSession) && Option.isSome(secondSession))
      assert.notStrictEqual(Option.getOrThrow(firstSession).id, Option.getOrThrow(secondSession).id)
      assert.includeMembers(states, ["Bound", "Disconnected", "Connecting"])
      assert.isAbove(states.indexOf("Disconnected"), states.indexOf("Bound"))
      assert.strictEqual((yield* client.state)._tag, "Bound")
    }).pipe(Effect.scoped, Effect.timeout("10 seconds")))
})
