/**
 * A peer that sends without reading the answers, over a real socket on 127.0.0.1: the
 * server stops reading it once its own writes wait (rather than buffer answers without
 * bound), and answers everything once the peer reads again.
 */
import * as Codec from "@effect-smpp/schema/Codec"
import * as Pdu from "@effect-smpp/schema/Pdu"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schedule from "effect/Schedule"
import * as Net from "node:net"
import * as Framer from "../src/Framer.js"
import * as SmppServer from "../src/SmppServer.js"

const REQUESTS = 150_000
// The longest message_id there is: answers outweigh the requests, and fill the socket buffers.
const messageId = "m".repeat(64)

describe("backpressure", () => {
  it.live("a peer that does not read: reading stops, then every request is answered once it reads", () =>
    Effect.gen(function*() {
      const server = yield* SmppServer.make({
        host: "127.0.0.1",
        port: 0,
        authenticate: SmppServer.passwords({ alice: "secret" }),
        handlers: { submit_sm: () => Effect.succeed(Pdu.make("submit_sm_resp", { messageId })) }
      })
      const conn = yield* Effect.acquireRelease(
        Effect.async<Net.Socket, Error>((resume) => {
          const socket = Net.createConnection({ host: "127.0.0.1", port: server.address!.port })
          socket.once("error", (error) => resume(Effect.fail(error)))
          socket.once("connect", () => resume(Effect.succeed(socket)))
        }),
        (socket) => Effect.sync(() => socket.destroy())
      )
      const framer = Framer.make()
      const answers = new Map<string, number>()
      conn.on("data", (chunk: Uint8Array) => {
        for (const frame of framer.push(chunk).frames) {
          const pdu = Codec.decode(frame)
          if (Either.isRight(pdu)) answers.set(pdu.right._tag, (answers.get(pdu.right._tag) ?? 0) + 1)
        }
      })
      conn.write(Codec.encode(Pdu.make("bind_transceiver", { systemId: "alice", password: "secret", sequenceNumber: 1 })))
      yield* Effect.retry(
        Effect.suspend(() => answers.get("bind_transceiver_resp") === 1 ? Effect.void : Effect.fail("not bound")),
        Schedule.spaced("10 millis").pipe(Schedule.upTo("5 seconds"))
      )

      // Stop reading, and send every request at once.
      conn.pause()
      const submit = Codec.encode(
        Pdu.make("submit_sm", { sourceAddr: "1", destinationAddr: "2", shortMessage: new Uint8Array([0x68, 0x69]) })
      )
      const all = new Uint8Array(submit.length * REQUESTS)
      for (let i = 0; i < REQUESTS; i++) {
        all.set(submit, i * submit.length)
        new DataView(all.buffer).setUint32(i * submit.length + 12, i + 2)
      }
      conn.write(all)

      const statsOf = Effect.map(server.sessions, (sessions) => sessions[0]!.stats)
      const paused = yield* Effect.retry(
        Effect.flatMap(statsOf, (stats) => stats.readPauses > 0 ? Effect.succeed(stats) : Effect.fail("still reading")),
        Schedule.spaced("20 millis").pipe(Schedule.upTo("20 seconds"))
      )
      assert.isBelow(paused.pdusIn, REQUESTS + 1) // it stopped before the end

      conn.resume()
      yield* Effect.retry(
        Effect.suspend(() =>
          (answers.get("submit_sm_resp") ?? 0) === REQUESTS ? Effect.void : Effect.fail("not all answered")
        ),
        Schedule.spaced("20 millis").pipe(Schedule.upTo("30 seconds"))
      )
      assert.strictEqual(answers.get("generic_nack"), undefined)
      const stats = yield* statsOf
      assert.strictEqual(stats.pdusIn, REQUESTS + 1)
      assert.strictEqual(stats.requestsHandled, REQUESTS + 1)
      assert.strictEqual(answers.get("submit_sm_resp"), REQUESTS)
    }).pipe(Effect.scoped), { timeout: 60_000 })
})
