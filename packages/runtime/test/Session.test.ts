import * as Codec from "@effect-smpp/schema/Codec"
import { CommandId } from "@effect-smpp/schema/CommandId"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Pdu from "@effect-smpp/schema/Pdu"
import { assert, describe, it } from "@effect/vitest"
import * as Socket from "@effect/platform/Socket"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as HashMap from "effect/HashMap"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Framer from "../src/Framer.js"
import * as MemorySocket from "../src/MemorySocket.js"
import * as Session from "../src/Session.js"

// --- fixtures

const text = (s: string) => new TextEncoder().encode(s)

const submit = (destinationAddr = "4915112345678") =>
  Pdu.SubmitSm.make({ sourceAddr: "12345", destinationAddr, shortMessage: text("hello") })

const bindTrx = Pdu.BindTransceiver.make({ systemId: "esme", password: "secret" })

/** An SMSC application: accepts every bind, answers submit_sm with a message id. */
const answer = (request: Session.Inbound): Effect.Effect<Session.HandlerResult> =>
  request._tag === "submit_sm"
    ? Effect.succeed(Pdu.SubmitSmResp.make({ sequenceNumber: request.sequenceNumber, messageId: `m${request.sequenceNumber}` }))
    : Effect.succeed(CommandStatus.ESME_ROK)
const smscHandler: Session.Handler = answer

type MoreOptions = Omit<Session.Options, "role">

/** An ESME and an SMSC session over a MemorySocket pair. */
const connect = (options?: { readonly esme?: MoreOptions; readonly smsc?: MoreOptions }) =>
  Effect.gen(function*() {
    const [a, b] = yield* MemorySocket.makePair()
    const smsc = yield* Session.make(b, { role: "smsc", handler: smscHandler, ...options?.smsc })
    const esme = yield* Session.make(a, { role: "esme", ...options?.esme })
    return { esme, smsc }
  })

/** The other end of a session, driven by hand: raw bytes out, decoded PDUs in. */
interface RawPeer {
  readonly send: (pdu: Pdu.Pdu) => Effect.Effect<void>
  readonly sendBytes: (bytes: Uint8Array) => Effect.Effect<void>
  /** The next PDU the session sent. */
  readonly next: Effect.Effect<Pdu.Pdu>
  /** PDUs received and not yet taken. */
  readonly received: Queue.Queue<Pdu.Pdu>
  /** Completes when the session closed the connection. */
  readonly ended: Deferred.Deferred<void>
  /** Closes the connection from this side. */
  readonly close: Effect.Effect<void>
}

const rawPeer = (socket: Socket.Socket): Effect.Effect<RawPeer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const received = yield* Queue.unbounded<Pdu.Pdu>()
    const ended = yield* Deferred.make<void>()
    const framer = Framer.make()
    yield* Effect.forkScoped(
      socket.run((chunk) => {
        for (const frame of framer.push(chunk).frames) {
          const decoded = Codec.decode(frame)
          if (Either.isLeft(decoded)) throw new Error(`the session sent an undecodable PDU: ${decoded.left.message}`)
          Queue.unsafeOffer(received, decoded.right)
        }
      }).pipe(Effect.ignore, Effect.ensuring(Deferred.succeed(ended, undefined)))
    )
    const write = yield* socket.writer
    return {
      send: (pdu) => Effect.orDie(write(Codec.encode(pdu))),
      sendBytes: (bytes) => Effect.orDie(write(bytes)),
      next: Queue.take(received),
      received,
      ended,
      close: Effect.orDie(write(new Socket.CloseEvent(1000)))
    }
  })

/** A session on one end of a MemorySocket pair, a RawPeer on the other. */
const withRawPeer = (options: Session.Options) =>
  Effect.gen(function*() {
    const [a, b] = yield* MemorySocket.makePair()
    const peer = yield* rawPeer(b)
    const session = yield* Session.make(a, options)
    // Runs before the Scope's graceful close, which could wait on a peer that never answers.
    yield* Effect.addFinalizer(() => session.abort)
    return { session, peer }
  })

const header = (length: number, commandId: number, status: number, sequence: number) => {
  const out = new Uint8Array(16)
  const view = new DataView(out.buffer)
  view.setUint32(0, length)
  view.setUint32(4, commandId)
  view.setUint32(8, status)
  view.setUint32(12, sequence)
  return out
}

const expectPdu = <K extends Pdu.Pdu["_tag"]>(pdu: Pdu.Pdu, tag: K): Pdu.PduOf<K> => {
  assert.strictEqual(pdu._tag, tag)
  return pdu as Pdu.PduOf<K>
}

/** Binds the raw peer (as an ESME) to an SMSC session. */
const rawBind = (peer: RawPeer, sequenceNumber = 1) =>
  Effect.gen(function*() {
    yield* peer.send(Pdu.BindTransceiver.make({ systemId: "raw", password: "pw", sequenceNumber }))
    const resp = expectPdu(yield* peer.next, "bind_transceiver_resp")
    assert.strictEqual(resp.commandStatus, CommandStatus.ESME_ROK)
    assert.strictEqual(resp.sequenceNumber, sequenceNumber)
  })

/** Binds an ESME session to a raw peer playing the SMSC. */
const bindAgainstRaw = (session: Session.Session, peer: RawPeer) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(session.request(bindTrx))
    const bind = expectPdu(yield* peer.next, "bind_transceiver")
    yield* peer.send(Pdu.BindTransceiverResp.make({ sequenceNumber: bind.sequenceNumber, systemId: "raw" }))
    const resp = yield* Fiber.join(fiber)
    assert.strictEqual(resp.commandStatus, CommandStatus.ESME_ROK)
    assert.strictEqual(yield* session.state, "BOUND_TRX")
  })

const isDone = <A, E>(fiber: Fiber.Fiber<A, E>) => Effect.map(Fiber.poll(fiber), Option.isSome)

// --- tests

describe("Session", () => {
  describe("requests and responses", () => {
    it.scoped("binds, then answers a submit_sm with its submit_sm_resp", () =>
      Effect.gen(function*() {
        const { esme, smsc } = yield* connect()
        assert.strictEqual(yield* esme.state, "OPEN")
        const bound = yield* esme.request(bindTrx)
        assert.strictEqual(bound._tag, "bind_transceiver_resp")
        assert.strictEqual(bound.commandStatus, CommandStatus.ESME_ROK)
        assert.strictEqual(yield* esme.state, "BOUND_TRX") // moved when the response was received
        assert.strictEqual(yield* smsc.state, "BOUND_TRX") // moved when the response was sent
        const resp = yield* esme.request(submit())
        assert.strictEqual(resp._tag, "submit_sm_resp")
        assert.strictEqual(resp.commandStatus, CommandStatus.ESME_ROK)
        assert.strictEqual(resp.messageId, `m${resp.sequenceNumber}`)
        assert.notStrictEqual(resp.sequenceNumber, bound.sequenceNumber)
        const stats = yield* esme.stats
        assert.strictEqual(stats.responsesReceived, 2)
        assert.strictEqual(stats.inFlight, 0)
        assert.strictEqual((yield* smsc.stats).requestsHandled, 2)
      }))

    it.scoped("unsafeRequest: the outcome to a callback, no fiber — a response, or at once why not", () =>
      Effect.gen(function*() {
        const { esme } = yield* connect()
        const outcomes: Array<Exit.Exit<Session.Response, Session.RequestError>> = []
        // before the bind: refused on the spot, synchronously
        esme.unsafeRequest(submit(), (exit) => outcomes.push(exit))
        assert.strictEqual(outcomes.length, 1)
        assert.isTrue(Exit.isFailure(outcomes[0]!))
        yield* esme.request(bindTrx)
        const answered = yield* Effect.async<Exit.Exit<Session.Response, Session.RequestError>>((resume) => {
          esme.unsafeRequest(submit(), (exit) => resume(Effect.succeed(exit)))
        })
        assert.isTrue(Exit.isSuccess(answered))
        if (Exit.isSuccess(answered)) {
          assert.strictEqual(answered.value._tag, "submit_sm_resp")
          assert.strictEqual((answered.value as Pdu.SubmitSmResp).messageId, `m${answered.value.sequenceNumber}`)
        }
        yield* esme.close
        esme.unsafeRequest(submit(), (exit) => outcomes.push(exit))
        assert.strictEqual(outcomes.length, 2)
        assert.isTrue(Exit.isFailure(outcomes[1]!))
      }))

    it.scoped("1,000 concurrent requests at window 10: never more than 10 in flight at the peer, all answered", () =>
      Effect.gen(function*() {
        let current = 0
        let max = 0
        const seen = new Set<number>()
        const handler: Session.Handler = (request) =>
          request._tag !== "submit_sm"
            ? Effect.succeed(CommandStatus.ESME_ROK)
            : Effect.gen(function*() {
              current++
              max = Math.max(max, current)
              seen.add(request.sequenceNumber)
              yield* Effect.yieldNow()
              yield* Effect.yieldNow()
              current--
              return Pdu.SubmitSmResp.make({ sequenceNumber: request.sequenceNumber, messageId: "x" })
            })
        const { esme } = yield* connect({ esme: { windowSize: 10 }, smsc: { handler, handlerConcurrency: 32 } })
        yield* esme.request(bindTrx)
        const responses = yield* Effect.forEach(
          Array.from({ length: 1000 }, () => submit()),
          (pdu) => esme.request(pdu),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(responses.length, 1000)
        assert.isTrue(responses.every((r) => r.commandStatus === CommandStatus.ESME_ROK))
        assert.strictEqual(new Set(responses.map((r) => r.sequenceNumber)).size, 1000)
        assert.strictEqual(seen.size, 1000) // distinct sequence numbers on the wire
        assert.isAtMost(max, 10)
        assert.strictEqual(max, 10) // and the window was used in full
        const stats = yield* esme.stats
        assert.strictEqual(stats.inFlight, 0)
        assert.isAbove(stats.windowWaits, 0)
        assert.isBelow(stats.writes, 1000) // batched: fewer socket writes than PDUs
      }))

    it.scoped("a non-OK command_status is an answer, not an error; a failing handler answers ESME_RSYSERR", () =>
      Effect.gen(function*() {
        const handler: Session.Handler = (request) =>
          request._tag === "submit_sm"
            ? Effect.fail("the database is down")
            : request._tag === "query_sm"
            ? Effect.succeed(CommandStatus.ESME_RINVMSGID)
            : Effect.succeed(CommandStatus.ESME_ROK)
        const { esme } = yield* connect({ smsc: { handler } })
        yield* esme.request(bindTrx)
        const submitted = yield* esme.request(submit())
        assert.strictEqual(submitted.commandStatus, CommandStatus.ESME_RSYSERR)
        const queried = yield* esme.request(Pdu.QuerySm.make({ messageId: "42", sourceAddr: "12345" }))
        assert.strictEqual(queried._tag, "query_sm_resp")
        assert.strictEqual(queried.commandStatus, CommandStatus.ESME_RINVMSGID)
      }))

    it.scoped("noResponse, then send: a bind answered later, outside the handler", () =>
      Effect.gen(function*() {
        const held = yield* Queue.unbounded<Session.Inbound>()
        const handler: Session.Handler = (request) =>
          request._tag === "bind_transceiver" ? Effect.as(Queue.offer(held, request), Session.noResponse) : answer(request)
        const { esme, smsc } = yield* connect({ smsc: { handler } })
        const binding = yield* Effect.fork(esme.request(bindTrx))
        const request = yield* Queue.take(held)
        assert.strictEqual(yield* smsc.state, "OPEN")
        yield* smsc.send(Pdu.BindTransceiverResp.make({ sequenceNumber: request.sequenceNumber, systemId: "later" }))
        assert.strictEqual(yield* smsc.state, "BOUND_TRX") // bound when the response is sent
        const resp = yield* Fiber.join(binding)
        assert.strictEqual(resp.systemId, "later")
        assert.strictEqual(yield* esme.state, "BOUND_TRX")
      }))

    it.scoped("outbind reaches the ESME's handler, which answers nothing", () =>
      Effect.gen(function*() {
        const outbinds = yield* Queue.unbounded<Session.Inbound>()
        const [a, b] = yield* MemorySocket.makePair()
        const esme = yield* Session.make(a, {
          role: "esme",
          handler: (request) => Effect.as(Queue.offer(outbinds, request), CommandStatus.ESME_ROK)
        })
        const smsc = yield* Session.make(b, { role: "smsc", handler: smscHandler })
        yield* smsc.send(Pdu.Outbind.make({ systemId: "smsc", password: "pw" }))
        const outbind = yield* Queue.take(outbinds)
        assert.strictEqual(outbind._tag, "outbind")
        assert.isAbove(outbind.sequenceNumber, 0) // given one by send
        // The ESME then binds as a receiver on the same connection.
        const bound = yield* esme.request(Pdu.BindReceiver.make({ systemId: "esme", password: "pw" }))
        assert.strictEqual(bound.commandStatus, CommandStatus.ESME_ROK)
        assert.strictEqual(yield* esme.state, "BOUND_RX")
        assert.strictEqual((yield* smsc.stats).pdusIn, 1) // the bind only: nothing answered the outbind
      }))

    it.scoped("refuses locally what this side may not send in its state", () =>
      Effect.gen(function*() {
        const { esme } = yield* connect()
        const error = yield* Effect.flip(esme.request(submit()))
        assert.strictEqual(error._tag, "InvalidBindState")
        if (error._tag === "InvalidBindState") {
          assert.strictEqual(error.state, "OPEN")
          assert.strictEqual(error.status, CommandStatus.ESME_RINVBNDSTS)
        }
        assert.strictEqual((yield* esme.stats).pdusOut, 0)
      }))

    it.scoped("a generic_nack for a pending request fails it with GenericNack", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "esme" })
        yield* bindAgainstRaw(session, peer)
        const fiber = yield* Effect.fork(session.request(submit()))
        const sent = expectPdu(yield* peer.next, "submit_sm")
        yield* peer.sendBytes(header(16, CommandId.generic_nack, CommandStatus.ESME_RINVCMDLEN, sent.sequenceNumber))
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag, "GenericNack")
        if (error._tag === "GenericNack") assert.strictEqual(error.status, CommandStatus.ESME_RINVCMDLEN)
        assert.strictEqual((yield* session.stats).inFlight, 0)
        yield* session.abort
      }))
  })

  describe("timers", () => {
    it.scoped("the first enquire_link goes out exactly 30 s after the last PDU received", () =>
      Effect.gen(function*() {
        const { esme } = yield* connect({ smsc: { enquireLinkInterval: Duration.infinity } })
        yield* esme.request(bindTrx)
        yield* TestClock.adjust("29 seconds")
        assert.strictEqual((yield* esme.stats).enquireLinksSent, 0)
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* esme.stats).enquireLinksSent, 1)
        // Answered by the peer: the session lives on, the next one is 30 s later.
        yield* TestClock.adjust("29 seconds")
        assert.strictEqual((yield* esme.stats).enquireLinksSent, 1)
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* esme.stats).enquireLinksSent, 2)
        assert.strictEqual(yield* esme.state, "BOUND_TRX")
      }))

    it.scoped("traffic in between postpones the enquire_link", () =>
      Effect.gen(function*() {
        const { esme } = yield* connect({ smsc: { enquireLinkInterval: Duration.infinity } })
        yield* esme.request(bindTrx)
        yield* TestClock.adjust("20 seconds")
        yield* esme.request(submit()) // its response is received at 20 s
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual((yield* esme.stats).enquireLinksSent, 0)
        yield* TestClock.adjust("19 seconds")
        assert.strictEqual((yield* esme.stats).enquireLinksSent, 0)
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* esme.stats).enquireLinksSent, 1)
      }))

    it.scoped("three enquire_links unanswered: the session is dead and closes", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "esme" })
        const closed = yield* Effect.fork(session.closed)
        for (let i = 1; i <= 3; i++) {
          yield* TestClock.adjust("30 seconds")
          expectPdu(yield* peer.next, "enquire_link")
          assert.isFalse(yield* isDone(closed))
        }
        yield* TestClock.adjust("30 seconds")
        const reason = yield* Fiber.join(closed)
        assert.strictEqual(reason._tag, "SessionClosed")
        assert.strictEqual(reason.reason, "KeepaliveDead")
        yield* Deferred.await(peer.ended)
        assert.strictEqual(yield* session.state, "CLOSED")
        assert.strictEqual(yield* Queue.size(peer.received), 0) // no unbind to a dead peer
      }))

    it.scoped("answers the peer's enquire_link itself; the handler never sees it", () =>
      Effect.gen(function*() {
        let handled = 0
        const [a, b] = yield* MemorySocket.makePair()
        const peer = yield* rawPeer(b)
        yield* Session.make(a, {
          role: "smsc",
          handler: () => Effect.sync(() => ++handled).pipe(Effect.as(CommandStatus.ESME_ROK))
        })
        yield* peer.send(Pdu.EnquireLink.make({ sequenceNumber: 77 }))
        const resp = expectPdu(yield* peer.next, "enquire_link_resp")
        assert.strictEqual(resp.sequenceNumber, 77)
        assert.strictEqual(handled, 0)
        yield* peer.close
      }))

    it.scoped("a response_timer fails the request with ResponseTimeout and frees its slot", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({
          role: "esme",
          windowSize: 1,
          enquireLinkInterval: Duration.infinity
        })
        yield* bindAgainstRaw(session, peer)
        const first = yield* Effect.fork(session.request(submit("1")))
        const firstSent = expectPdu(yield* peer.next, "submit_sm")
        const second = yield* Effect.fork(session.request(submit("2")))
        yield* Effect.yieldNow()
        assert.strictEqual((yield* session.stats).waiting, 1)
        yield* TestClock.adjust("29 seconds")
        assert.isFalse(yield* isDone(first))
        yield* TestClock.adjust("1 second")
        const error = yield* Effect.flip(Fiber.join(first))
        assert.strictEqual(error._tag, "ResponseTimeout")
        if (error._tag === "ResponseTimeout") {
          assert.strictEqual(error.sequenceNumber, firstSent.sequenceNumber)
          assert.strictEqual(error.timeout, 30_000)
        }
        // The slot is free: the second request goes out now.
        const secondSent = expectPdu(yield* peer.next, "submit_sm")
        assert.strictEqual(secondSent.destinationAddr, "2")
        yield* peer.send(Pdu.SubmitSmResp.make({ sequenceNumber: secondSent.sequenceNumber, messageId: "ok" }))
        const resp = yield* Fiber.join(second)
        assert.strictEqual(resp.messageId, "ok")
        // The late answer to the first one has nobody waiting: dropped.
        yield* peer.send(Pdu.SubmitSmResp.make({ sequenceNumber: firstSent.sequenceNumber, messageId: "late" }))
        yield* peer.send(Pdu.EnquireLink.make({ sequenceNumber: 99 }))
        expectPdu(yield* peer.next, "enquire_link_resp")
        const stats = yield* session.stats
        assert.strictEqual(stats.responseTimeouts, 1)
        assert.strictEqual(stats.unexpectedResponses, 1)
        assert.strictEqual(stats.inFlight, 0)
        yield* session.abort
      }))

    it.scoped("a request that cannot get a window slot in time fails with WindowTimeout", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "esme", windowSize: 1, windowTimeout: "5 seconds" })
        yield* bindAgainstRaw(session, peer)
        const first = yield* Effect.fork(session.request(submit("1")))
        yield* peer.next
        const second = yield* Effect.fork(session.request(submit("2")))
        yield* Effect.yieldNow()
        yield* TestClock.adjust("5 seconds")
        const error = yield* Effect.flip(Fiber.join(second))
        assert.strictEqual(error._tag, "WindowTimeout")
        assert.isFalse(yield* isDone(first))
        assert.strictEqual((yield* session.stats).windowTimeouts, 1)
        yield* session.abort
      }))

    it.scoped("session_init closes an unbound connection after 10 s", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "smsc", handler: smscHandler })
        const closed = yield* Effect.fork(session.closed)
        yield* TestClock.adjust("9 seconds")
        assert.isFalse(yield* isDone(closed))
        assert.strictEqual(yield* session.state, "OPEN")
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Fiber.join(closed)).reason, "SessionInitTimeout")
        yield* Deferred.await(peer.ended)
      }))

    it.scoped("session_init does not touch a session bound in time", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "smsc", handler: smscHandler })
        yield* TestClock.adjust("5 seconds")
        yield* rawBind(peer)
        yield* TestClock.adjust("20 seconds")
        assert.strictEqual(yield* session.state, "BOUND_TRX")
        yield* session.abort
      }))

    it.scoped("the inactivity timer unbinds a session with nothing but keepalive traffic", () =>
      Effect.gen(function*() {
        const { esme, smsc } = yield* connect({ esme: { inactivityTimeout: "2 minutes" } })
        yield* esme.request(bindTrx)
        yield* TestClock.adjust("90 seconds")
        assert.isAtLeast((yield* esme.stats).enquireLinksSent, 1)
        assert.strictEqual(yield* esme.state, "BOUND_TRX")
        yield* TestClock.adjust("30 seconds")
        assert.strictEqual((yield* esme.closed).reason, "Inactive")
        assert.strictEqual((yield* smsc.closed).reason, "PeerUnbound")
      }))
  })

  describe("inbound checks", () => {
    it.scoped("a bad command_length: generic_nack ESME_RINVCMDLEN, then the session closes", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "smsc", handler: smscHandler })
        yield* peer.sendBytes(header(8, CommandId.submit_sm, 0, 7))
        const nack = expectPdu(yield* peer.next, "generic_nack")
        assert.strictEqual(nack.commandStatus, CommandStatus.ESME_RINVCMDLEN)
        assert.strictEqual(nack.sequenceNumber, 7)
        assert.strictEqual((yield* session.closed).reason, "InvalidCommandLength")
        yield* Deferred.await(peer.ended)
      }))

    it.scoped("a command_length above maxLength is a bad length too", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "smsc", handler: smscHandler, maxLength: 1024 })
        yield* peer.sendBytes(header(1025, CommandId.submit_sm, 0, 8))
        const nack = expectPdu(yield* peer.next, "generic_nack")
        assert.strictEqual(nack.commandStatus, CommandStatus.ESME_RINVCMDLEN)
        assert.strictEqual((yield* session.closed).reason, "InvalidCommandLength")
      }))

    it.scoped("an unknown command_id: generic_nack ESME_RINVCMDID, and the session lives on", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "smsc", handler: smscHandler })
        yield* peer.sendBytes(header(16, 0x00000099, 0, 5))
        const nack = expectPdu(yield* peer.next, "generic_nack")
        assert.strictEqual(nack.commandStatus, CommandStatus.ESME_RINVCMDID)
        assert.strictEqual(nack.sequenceNumber, 5)
        yield* rawBind(peer, 6)
        assert.strictEqual(yield* session.state, "BOUND_TRX")
        yield* session.abort
      }))

    it.scoped("submit_sm while OPEN: submit_sm_resp ESME_RINVBNDSTS; a second bind: ESME_RALYBND", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "smsc", handler: smscHandler })
        yield* peer.send({ ...submit(), sequenceNumber: 3 })
        const refused = expectPdu(yield* peer.next, "submit_sm_resp")
        assert.strictEqual(refused.commandStatus, CommandStatus.ESME_RINVBNDSTS)
        assert.strictEqual(refused.sequenceNumber, 3)
        yield* rawBind(peer, 4)
        yield* peer.send(Pdu.BindTransmitter.make({ systemId: "raw", sequenceNumber: 5 }))
        const again = expectPdu(yield* peer.next, "bind_transmitter_resp")
        assert.strictEqual(again.commandStatus, CommandStatus.ESME_RALYBND)
        assert.strictEqual(yield* session.state, "BOUND_TRX")
        assert.strictEqual((yield* session.stats).requestsRefused, 2)
        yield* session.abort
      }))

    it.scoped("a submit_sm whose source_addr does not decode: submit_sm_resp ESME_RINVSRCADR", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "smsc", handler: smscHandler })
        yield* rawBind(peer)
        // header 16 · service_type NUL · ton · npi · 20 × "A" · NUL at 39: make the NUL an "A",
        // so that source_addr runs to 21 characters, over its limit of 20.
        const bytes = Codec.encode(
          Pdu.SubmitSm.make({ sourceAddr: "A".repeat(20), destinationAddr: "123", sequenceNumber: 9 })
        ).slice()
        assert.strictEqual(bytes[39], 0)
        bytes[39] = 0x41
        yield* peer.sendBytes(bytes)
        const resp = expectPdu(yield* peer.next, "submit_sm_resp")
        assert.strictEqual(resp.commandStatus, CommandStatus.ESME_RINVSRCADR)
        assert.strictEqual(resp.sequenceNumber, 9)
        // A good one right after is served.
        yield* peer.send({ ...submit(), sequenceNumber: 10 })
        const ok = expectPdu(yield* peer.next, "submit_sm_resp")
        assert.strictEqual(ok.commandStatus, CommandStatus.ESME_ROK)
        assert.strictEqual(ok.messageId, "m10")
        yield* session.abort
      }))

    it.scoped("a full mailbox answers ESME_RTHROTTLED", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        const handler: Session.Handler = (request) =>
          request._tag === "submit_sm"
            ? Effect.as(Deferred.await(gate), CommandStatus.ESME_ROK)
            : Effect.succeed(CommandStatus.ESME_ROK)
        const { peer, session } = yield* withRawPeer({
          role: "smsc",
          handler,
          mailboxCapacity: 1,
          handlerConcurrency: 1
        })
        yield* rawBind(peer)
        // Three in one chunk: the first fills the mailbox before the worker can take it.
        const chunk = new Uint8Array(
          [11, 12, 13].flatMap((sequenceNumber) => Array.from(Codec.encode({ ...submit(), sequenceNumber })))
        )
        yield* peer.sendBytes(chunk)
        const throttled = [expectPdu(yield* peer.next, "submit_sm_resp"), expectPdu(yield* peer.next, "submit_sm_resp")]
        assert.deepStrictEqual(throttled.map((r) => [r.sequenceNumber, r.commandStatus]), [
          [12, CommandStatus.ESME_RTHROTTLED],
          [13, CommandStatus.ESME_RTHROTTLED]
        ])
        yield* Deferred.succeed(gate, undefined)
        const served = expectPdu(yield* peer.next, "submit_sm_resp")
        assert.deepStrictEqual([served.sequenceNumber, served.commandStatus], [11, CommandStatus.ESME_ROK])
        yield* session.abort
      }))

    it.scoped("unbind from the peer is answered with unbind_resp and the session closes", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "smsc", handler: smscHandler })
        yield* rawBind(peer)
        yield* peer.send(Pdu.Unbind.make({ sequenceNumber: 2 }))
        const resp = expectPdu(yield* peer.next, "unbind_resp")
        assert.strictEqual(resp.sequenceNumber, 2)
        assert.strictEqual(resp.commandStatus, CommandStatus.ESME_ROK)
        assert.strictEqual((yield* session.closed).reason, "PeerUnbound")
        yield* Deferred.await(peer.ended)
      }))
    it.scoped("a peer that unbinds without waiting gets every answer first: handler and answerLater ones", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        const later: Array<number> = []
        const { peer, session } = yield* withRawPeer({
          role: "smsc",
          handler: (request) => {
            if (request._tag !== "submit_sm") return Effect.succeed(CommandStatus.ESME_ROK)
            const seq = request.sequenceNumber
            // #2: a slow handler; #3: answered later by the application, with `send`.
            if (seq === 2) {
              return Effect.as(Deferred.await(gate), Pdu.SubmitSmResp.make({ sequenceNumber: seq, messageId: "slow" }))
            }
            later.push(seq)
            return Effect.succeed(Session.answerLater)
          }
        })
        yield* rawBind(peer)
        yield* peer.send(Pdu.SubmitSm.make({ sequenceNumber: 2, destinationAddr: "49" }))
        yield* peer.send(Pdu.SubmitSm.make({ sequenceNumber: 3, destinationAddr: "49" }))
        yield* peer.send(Pdu.Unbind.make({ sequenceNumber: 4 }))
        while (later.length === 0) yield* Effect.yieldNow()
        // A request after the unbind is refused: the session is UNBOUND.
        yield* peer.send(Pdu.SubmitSm.make({ sequenceNumber: 5, destinationAddr: "49" }))
        const refused = expectPdu(yield* peer.next, "submit_sm_resp")
        assert.deepStrictEqual([refused.sequenceNumber, refused.commandStatus], [5, CommandStatus.ESME_RINVBNDSTS])
        yield* Deferred.succeed(gate, undefined)
        const slow = expectPdu(yield* peer.next, "submit_sm_resp")
        assert.deepStrictEqual([slow.sequenceNumber, slow.messageId], [2, "slow"])
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
        assert.strictEqual(yield* Queue.size(peer.received), 0) // no unbind_resp while #3 is owed
        yield* session.send(Pdu.SubmitSmResp.make({ sequenceNumber: 3, messageId: "later" }))
        const answered = expectPdu(yield* peer.next, "submit_sm_resp")
        assert.deepStrictEqual([answered.sequenceNumber, answered.messageId], [3, "later"])
        const resp = expectPdu(yield* peer.next, "unbind_resp")
        assert.strictEqual(resp.sequenceNumber, 4)
        assert.strictEqual((yield* session.closed).reason, "PeerUnbound")
        yield* Deferred.await(peer.ended)
      }))

    it.scoped("an owed answer given up with `unanswered` holds nothing", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({
          role: "smsc",
          handler: (request) => Effect.succeed(request._tag === "submit_sm" ? Session.answerLater : CommandStatus.ESME_ROK)
        })
        yield* rawBind(peer)
        yield* peer.send(Pdu.SubmitSm.make({ sequenceNumber: 2, destinationAddr: "49" }))
        yield* peer.send(Pdu.Unbind.make({ sequenceNumber: 3 }))
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
        assert.strictEqual(yield* Queue.size(peer.received), 0) // #2 is owed
        session.unanswered(2)
        const resp = expectPdu(yield* peer.next, "unbind_resp")
        assert.strictEqual(resp.sequenceNumber, 3)
      }))

    it.scoped("an owed answer that never comes holds a peer's unbind_resp for drainTimeout only", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({
          role: "smsc",
          drainTimeout: "5 seconds",
          handler: (request) =>
            Effect.succeed(
              request._tag !== "submit_sm"
                ? CommandStatus.ESME_ROK
                : request.sequenceNumber === 2
                ? Session.answerLater
                : Session.noResponse
            )
        })
        yield* rawBind(peer)
        yield* peer.send(Pdu.SubmitSm.make({ sequenceNumber: 2, destinationAddr: "49" })) // owed, never answered
        yield* peer.send(Pdu.SubmitSm.make({ sequenceNumber: 3, destinationAddr: "49" })) // dropped
        yield* peer.send(Pdu.Unbind.make({ sequenceNumber: 4 }))
        yield* TestClock.adjust("4 seconds")
        assert.strictEqual(yield* Queue.size(peer.received), 0)
        yield* TestClock.adjust("1 second")
        const resp = expectPdu(yield* peer.next, "unbind_resp")
        assert.strictEqual(resp.sequenceNumber, 4)
        assert.strictEqual((yield* session.closed).reason, "PeerUnbound")
      }))
  })

  describe("closing", () => {
    it.scoped("on close every pending request fails with SessionClosed", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "esme", windowSize: 2 })
        yield* bindAgainstRaw(session, peer)
        const fibers = yield* Effect.forEach([1, 2, 3], (n) => Effect.fork(session.request(submit(`${n}`))))
        yield* peer.next
        yield* peer.next
        assert.strictEqual((yield* session.stats).waiting, 1)
        yield* peer.close // the connection drops
        for (const fiber of fibers) {
          const error = yield* Effect.flip(Fiber.join(fiber))
          assert.strictEqual(error._tag, "SessionClosed")
          if (error._tag === "SessionClosed") assert.strictEqual(error.reason, "PeerClosed")
        }
        assert.strictEqual((yield* session.closed).reason, "PeerClosed")
        const late = yield* Effect.flip(session.request(submit()))
        assert.strictEqual(late._tag, "SessionClosed")
      }))

    it.scoped("abort fails what is in flight at once", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "esme" })
        yield* bindAgainstRaw(session, peer)
        const fiber = yield* Effect.fork(session.request(submit()))
        yield* peer.next
        const closed = yield* session.abort
        assert.strictEqual(closed.reason, "Aborted")
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag, "SessionClosed")
        yield* Deferred.await(peer.ended)
        assert.strictEqual(yield* Queue.size(peer.received), 0) // no unbind on abort
      }))

    it.scoped("graceful close: refuses new requests, drains the window, unbinds, waits for unbind_resp", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        const arrived = yield* Queue.unbounded<number>()
        const handler: Session.Handler = (request) =>
          request._tag === "submit_sm"
            ? Effect.zipRight(
              Queue.offer(arrived, request.sequenceNumber),
              Effect.as(Deferred.await(gate), CommandStatus.ESME_ROK)
            )
            : Effect.succeed(CommandStatus.ESME_ROK)
        const { esme, smsc } = yield* connect({ smsc: { handler } })
        const states = yield* Effect.fork(Stream.runCollect(esme.stateChanges))
        yield* Effect.yieldNow()
        yield* esme.request(bindTrx)
        const fibers = yield* Effect.forEach([1, 2, 3], (n) => Effect.fork(esme.request(submit(`${n}`))))
        for (let i = 0; i < 3; i++) yield* Queue.take(arrived)
        const closing = yield* Effect.fork(esme.close)
        yield* Effect.yieldNow()
        const refused = yield* Effect.flip(esme.request(submit()))
        assert.strictEqual(refused._tag, "SessionClosed")
        assert.strictEqual(yield* esme.state, "BOUND_TRX") // still draining
        assert.isFalse(yield* isDone(closing))
        yield* Deferred.succeed(gate, undefined)
        for (const fiber of fibers) assert.strictEqual((yield* Fiber.join(fiber)).commandStatus, CommandStatus.ESME_ROK)
        assert.strictEqual((yield* Fiber.join(closing)).reason, "Closed")
        assert.strictEqual((yield* smsc.closed).reason, "PeerUnbound")
        assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Fiber.join(states)), [
          "OPEN",
          "BOUND_TRX",
          "UNBOUND",
          "CLOSED"
        ])
      }))

    it.scoped("graceful close answers the peer's requests first: one with its handler, one answered later", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        const { peer, session } = yield* withRawPeer({
          role: "smsc",
          handler: (request) =>
            request._tag !== "submit_sm"
              ? Effect.succeed(CommandStatus.ESME_ROK)
              : request.sequenceNumber === 2
              ? Effect.as(Deferred.await(gate), Pdu.SubmitSmResp.make({ sequenceNumber: 2, messageId: "handled" }))
              : Effect.succeed(Session.answerLater)
        })
        yield* rawBind(peer)
        yield* peer.send(Pdu.SubmitSm.make({ sequenceNumber: 2, destinationAddr: "49" }))
        yield* peer.send(Pdu.SubmitSm.make({ sequenceNumber: 3, destinationAddr: "49" }))
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
        const closing = yield* Effect.fork(session.close)
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
        assert.strictEqual(yield* Queue.size(peer.received), 0) // no unbind while two answers are owed
        yield* Deferred.succeed(gate, undefined)
        const handled = expectPdu(yield* peer.next, "submit_sm_resp")
        assert.deepStrictEqual([handled.sequenceNumber, handled.messageId], [2, "handled"])
        yield* session.send(Pdu.SubmitSmResp.make({ sequenceNumber: 3, messageId: "later" }))
        const later = expectPdu(yield* peer.next, "submit_sm_resp")
        assert.deepStrictEqual([later.sequenceNumber, later.messageId], [3, "later"])
        const unbind = expectPdu(yield* peer.next, "unbind")
        yield* peer.send(Pdu.UnbindResp.make({ sequenceNumber: unbind.sequenceNumber }))
        assert.strictEqual((yield* Fiber.join(closing)).reason, "Closed")
      }))

    it.scoped("graceful close waits for the unbind_resp before closing the connection", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "esme" })
        yield* bindAgainstRaw(session, peer)
        const closing = yield* Effect.fork(session.unbind)
        const unbind = expectPdu(yield* peer.next, "unbind")
        assert.strictEqual(yield* session.state, "UNBOUND")
        yield* TestClock.adjust("10 seconds")
        assert.isFalse(yield* isDone(closing))
        yield* peer.send(Pdu.UnbindResp.make({ sequenceNumber: unbind.sequenceNumber }))
        assert.strictEqual((yield* Fiber.join(closing)).reason, "Unbound")
        yield* Deferred.await(peer.ended)
        assert.strictEqual(yield* session.state, "CLOSED")
      }))

    it.scoped("graceful close gives up on a silent peer after the response timeout", () =>
      Effect.gen(function*() {
        const { peer, session } = yield* withRawPeer({ role: "esme", responseTimeout: "5 seconds" })
        yield* bindAgainstRaw(session, peer)
        const closing = yield* Effect.fork(session.close)
        expectPdu(yield* peer.next, "unbind")
        yield* TestClock.adjust("5 seconds")
        assert.strictEqual((yield* Fiber.join(closing)).reason, "Closed")
        yield* Deferred.await(peer.ended)
      }))

    it.effect("closing the Scope closes the session gracefully", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const { esme, smsc } = yield* Scope.extend(connect(), scope)
        yield* esme.request(bindTrx)
        yield* Scope.close(scope, Exit.void)
        assert.strictEqual((yield* esme.closed).reason, "Closed")
        assert.strictEqual((yield* smsc.closed).reason, "PeerUnbound")
      }))

    it.scoped("the peer's unbind ends the other session too, and its stateChanges stream", () =>
      Effect.gen(function*() {
        const { esme, smsc } = yield* connect()
        yield* esme.request(bindTrx)
        const states = yield* Effect.fork(Stream.runCollect(smsc.stateChanges))
        yield* Effect.yieldNow()
        yield* smsc.unbind
        assert.strictEqual((yield* esme.closed).reason, "PeerUnbound")
        assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Fiber.join(states)), ["BOUND_TRX", "UNBOUND", "CLOSED"])
        assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Stream.runCollect(smsc.stateChanges)), ["CLOSED"])
      }))
  })

  describe("observability", () => {
    it.scoped("logs carry the session id, role and peer; metrics count PDUs by command", () =>
      Effect.gen(function*() {
        const lines: Array<{ message: string; annotations: Record<string, unknown> }> = []
        const capture = Logger.make(({ annotations, message }) => {
          lines.push({ message: String(message), annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
        })
        const submitsOut = Metric.tagged(Session.metrics.pdusOut, "command", "submit_sm")
        const before = (yield* Metric.value(submitsOut)).count
        const { peer, session } = yield* withRawPeer({ role: "esme", id: "esme-under-test", peer: "10.0.0.7:2775" }).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
          Logger.withMinimumLogLevel(LogLevel.Debug)
        )
        yield* bindAgainstRaw(session, peer)
        const fiber = yield* Effect.fork(session.request(submit()))
        const sent = yield* peer.next
        yield* peer.send(Pdu.SubmitSmResp.make({ sequenceNumber: sent.sequenceNumber, messageId: "1" }))
        yield* Fiber.join(fiber)
        // A response nobody asked for: dropped, and logged.
        yield* peer.send(Pdu.SubmitSmResp.make({ sequenceNumber: 4242, messageId: "2" }))
        yield* peer.send(Pdu.EnquireLink.make({ sequenceNumber: 5 }))
        yield* peer.next
        yield* Effect.yieldNow()
        const dropped = lines.find((line) => line.message.includes("#4242"))
        assert.isDefined(dropped)
        assert.deepStrictEqual(dropped!.annotations, { session: "esme-under-test", role: "esme", peer: "10.0.0.7:2775" })
        assert.isTrue(lines.some((line) => line.message.includes("OPEN -> BOUND_TRX")))
        assert.strictEqual((yield* Metric.value(submitsOut)).count - before, 1)
      }))
  })
})
