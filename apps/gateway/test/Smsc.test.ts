import { assert, describe, it } from "@effect/vitest"
import * as SmppServer from "@effect-smpp/runtime/SmppServer"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as MemorySocket from "@effect-smpp/runtime/MemorySocket"
import * as Session from "@effect-smpp/runtime/Session"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { Accounts } from "../src/Accounts.js"
import { type Message, MessageStore } from "../src/MessageStore.js"
import * as Smsc from "../src/Smsc.js"
import { esme, settle, stack } from "./fixtures/stack.js"

describe("Smsc", () => {
  it.scoped("sends enquire_link to a session idle for 30 s", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.SmppServer
      yield* esme()
      const sent = Effect.map(server.sessionsOf("demo"), (sessions) => sessions[0].stats.enquireLinksSent)
      yield* TestClock.adjust("29 seconds")
      yield* settle(Effect.void)
      assert.strictEqual(yield* sent, 0)
      yield* TestClock.adjust("2 seconds")
      yield* settle(Effect.filterOrFail(sent, (n) => n === 1))
    }).pipe(Effect.provide(stack())))

  it.scoped("counts a bound session against the account's maxSessions until it ends", () =>
    Effect.gen(function*() {
      const accounts = yield* Accounts
      const first = yield* esme()
      assert.strictEqual(accounts.sessions("demo"), 1)
      const refused = yield* Effect.exit(esme())
      assert.isTrue(refused._tag === "Failure")
      yield* first.session.close
      yield* settle(Effect.filterOrFail(Effect.sync(() => accounts.sessions("demo")), (n) => n === 0))
      yield* esme()
      assert.strictEqual(accounts.sessions("demo"), 1)
    }).pipe(Effect.provide(stack({ config: { accounts: [{ systemId: "demo", password: "demo", maxSessions: 1 }] } }))))

  it.scoped("answers a submit_sm from a transmitter session with the stored id", () =>
    Effect.gen(function*() {
      const customer = yield* esme({ kind: "bind_transmitter" })
      const response = yield* customer.session.request(
        Pdu.make("submit_sm", { sourceAddr: "Acme", destinationAddr: "4917", shortMessage: new Uint8Array([0x41]) })
      )
      assert.strictEqual(response.commandStatus, CommandStatus.ESME_ROK)
      assert.match(response.messageId ?? "", /^[0-9a-f]{16}$/)
      const unknown = yield* customer.session.request(Pdu.make("query_sm", { messageId: "0000000000000999" }))
      assert.strictEqual(unknown.commandStatus, CommandStatus.ESME_RQUERYFAIL)
    }).pipe(Effect.provide(stack())))

  it.scoped("answers 600 submit_sm sent at once (more than the fast path holds per session), each with its own stored id", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.SmppServer
      const store = yield* MessageStore
      const [a, b] = yield* MemorySocket.makePair()
      yield* server.handle(b, { peer: "memory:test" })
      const session = yield* Session.make(a, {
        role: "esme",
        enquireLinkInterval: Duration.infinity,
        windowSize: 1000,
        handler: () => Effect.succeed(CommandStatus.ESME_RINVCMDID)
      })
      yield* session.request(Pdu.make("bind_transmitter", { systemId: "demo", password: "demo" }))
      const responses = yield* Effect.forEach(
        Array.from({ length: 600 }, (_, i) =>
          Pdu.make("submit_sm", {
            sourceAddr: "Acme",
            destinationAddr: i === 7 ? "" : "4917",
            shortMessage: new Uint8Array([0x41])
          })),
        (pdu) => session.request(pdu),
        { concurrency: "unbounded" }
      )
      // the one without a destination refused at once; every other answered with its own stored id
      assert.strictEqual(responses[7].commandStatus, CommandStatus.ESME_RINVDSTADR)
      const ids = responses.filter((_, i) => i !== 7).map((response) => response.messageId)
      assert.strictEqual(new Set(ids).size, 599)
      for (const id of [ids[0] ?? "", ids[598] ?? ""]) {
        assert.strictEqual((yield* store.findById(id)).pipe(Option.getOrThrow).state, MessageState.ENROUTE)
      }
    }).pipe(Effect.provide(stack())))

  it("query_sm_resp: final_date in SMPP absolute time (UTC), the state and the error code", () => {
    const message = {
      id: "00000000000000ff",
      state: MessageState.UNDELIVERABLE,
      errorCode: 300,
      doneAt: Date.UTC(2024, 5, 7, 8, 9, 10, 500)
    } as Message
    const response = Smsc.queryResponse(message)
    assert.strictEqual(response.messageId, "00000000000000ff")
    assert.strictEqual(response.finalDate, "240607080910500+")
    assert.strictEqual(response.messageState, MessageState.UNDELIVERABLE)
    assert.strictEqual(response.errorCode, 0xff)
    assert.strictEqual(Smsc.queryResponse({ ...message, doneAt: null }).finalDate, "")
  })
})
