import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { SessionClosed } from "../src/SessionError.js"
import * as Session from "../src/Session.js"

const handler: Session.Handler = (request) =>
  request._tag === "submit_sm"
    ? Effect.succeed(Pdu.SubmitSmResp.make({ sequenceNumber: request.sequenceNumber, messageId: `m${request.sequenceNumber}` }))
    : Effect.succeed(CommandStatus.ESME_ROK)

describe("Session over TCP", () => {
  it.scopedLive("an ESME and an SMSC session over a real socket on 127.0.0.1", () =>
    Effect.gen(function*() {
      const server = yield* NodeSocketServer.make({ host: "127.0.0.1", port: 0 })
      assert.strictEqual(server.address._tag, "TcpAddress")
      const port = server.address._tag === "TcpAddress" ? server.address.port : 0
      const smscClosed = yield* Deferred.make<SessionClosed>()
      yield* Effect.forkScoped(server.run((socket) =>
        Effect.scoped(
          Effect.flatMap(
            Session.make(socket, { role: "smsc", handler }),
            (session) => Effect.flatMap(session.closed, (closed) => Deferred.succeed(smscClosed, closed))
          )
        )
      ))

      const socket = yield* NodeSocket.makeNet({ host: "127.0.0.1", port })
      const esme = yield* Session.make(socket, { role: "esme", peer: `127.0.0.1:${port}` })
      const bound = yield* esme.request(Pdu.BindTransceiver.make({ systemId: "esme", password: "secret" }))
      assert.strictEqual(bound.commandStatus, CommandStatus.ESME_ROK)
      const responses = yield* Effect.forEach(
        Array.from({ length: 500 }, (_, i) => Pdu.SubmitSm.make({ destinationAddr: `49151${i}` })),
        (pdu) => esme.request(pdu),
        { concurrency: 50 }
      )
      assert.isTrue(responses.every((r) => r.commandStatus === CommandStatus.ESME_ROK && r.messageId === `m${r.sequenceNumber}`))
      const stats = yield* esme.stats
      assert.isBelow(stats.writes, stats.pdusOut) // batched
      assert.strictEqual((yield* esme.close).reason, "Closed")
      assert.strictEqual((yield* Deferred.await(smscClosed)).reason, "PeerUnbound")
    }))
})
