/**
 * `smpp send` in process against SMSCs on 127.0.0.1 (port 0): ours, and node-smpp's server.
 * Every test is bounded and closes what it opens.
 */
import * as SmppServer from "@effect-smpp/runtime/SmppServer"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as DataCoding from "@effect-smpp/schema/DataCoding"
import * as Pdu from "@effect-smpp/schema/Pdu"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Net from "node:net"
import smpp from "smpp"
import { sameMessageId } from "../../src/cli/SendCommand.js"
import { HOST, idOf, PASSWORD, smpp as runSmpp, smsc, SYSTEM_ID, target } from "./fixtures.js"

const message = ["--from", "Shop", "--to", "+4912345678"]

describe("smpp send", () => {
  it.live("--dlr binds as transceiver, prints the id and DELIVRD once the receipt is in", () =>
    Effect.gen(function*() {
      const { port, server, submitted } = yield* smsc()
      const events = yield* server.subscribe
      const { exit, stderr, stdout } = yield* runSmpp(["send", ...target(port), ...message, "--text", "Hello", "--dlr"])
      assert.isTrue(Exit.isSuccess(exit), stderr)
      assert.strictEqual(stdout, `id ${idOf(1)} DELIVRD`)
      assert.strictEqual(submitted.length, 1)
      const pdu = submitted[0]!
      assert.strictEqual(pdu.registeredDelivery, 1)
      assert.strictEqual(pdu.sourceAddr, "Shop")
      assert.strictEqual(pdu.destinationAddr, "4912345678")
      assert.strictEqual(pdu.destAddrTon, 1)
      assert.strictEqual(pdu.dataCoding, DataCoding.DataCoding.SMSC_DEFAULT)
      assert.strictEqual(new TextDecoder().decode(pdu.shortMessage), "Hello")
      const bound = yield* events.take
      const first = bound._tag === "Connected" ? yield* events.take : bound
      assert.strictEqual(first._tag === "Bound" ? first.kind : first._tag, "transceiver")
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("without --dlr binds as transmitter, asks for no receipt and prints the id of every part", () =>
    Effect.gen(function*() {
      const { port, server, submitted } = yield* smsc()
      const events = yield* server.subscribe
      // 100 × ж: UCS-2, two parts with a UDH
      const { exit, stderr, stdout } = yield* runSmpp(["send", ...target(port), ...message, "--text", "ж".repeat(100)])
      assert.isTrue(Exit.isSuccess(exit), stderr)
      assert.strictEqual(stdout, `id ${idOf(1)}\nid ${idOf(2)}`)
      assert.deepStrictEqual(submitted.map((pdu) => pdu.registeredDelivery), [0, 0])
      assert.deepStrictEqual(submitted.map((pdu) => pdu.dataCoding), [8, 8])
      assert.deepStrictEqual(submitted.map((pdu) => pdu.esmClass & 0x40), [0x40, 0x40])
      let kind: string | undefined
      while (kind === undefined) {
        const event = yield* events.take
        if (event._tag === "Bound") kind = event.kind
      }
      assert.strictEqual(kind, "transmitter")
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("--dlr on a long message waits for the receipt of every part", () =>
    Effect.gen(function*() {
      const { port, submitted } = yield* smsc()
      const { exit, stderr, stdout } = yield* runSmpp([
        "send", ...target(port), ...message, "--text", "x".repeat(400), "--dlr", "--split", "sar"
      ])
      assert.isTrue(Exit.isSuccess(exit), stderr)
      assert.strictEqual(submitted.length, 3)
      assert.deepStrictEqual(submitted.map((pdu) => pdu.tlvs.sarSegmentSeqnum), [1, 2, 3])
      assert.deepStrictEqual(stdout.split("\n").sort(), [1, 2, 3].map((n) => `id ${idOf(n)} DELIVRD`))
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("--encoding and --split payload choose the data_coding and the splitting", () =>
    Effect.gen(function*() {
      const { port, submitted } = yield* smsc()
      const latin = yield* runSmpp(["send", ...target(port), ...message, "--text", "Grüße", "--encoding", "latin1"])
      assert.isTrue(Exit.isSuccess(latin.exit), latin.stderr)
      assert.strictEqual(submitted[0]!.dataCoding, 3)
      assert.deepStrictEqual([...submitted[0]!.shortMessage], [...Buffer.from("Grüße", "latin1")])
      const payload = yield* runSmpp(["send", ...target(port), ...message, "--text", "y".repeat(300), "--split", "payload"])
      assert.isTrue(Exit.isSuccess(payload.exit), payload.stderr)
      assert.strictEqual(submitted.length, 2)
      assert.strictEqual(submitted[1]!.tlvs.messagePayload?.length, 300)
      // a text the encoding cannot carry
      const bad = yield* runSmpp(["send", ...target(port), ...message, "--text", "日本", "--encoding", "gsm"])
      assert.isTrue(Exit.isFailure(bad.exit))
      assert.include(bad.stderr, "smpp send:")
      assert.strictEqual(submitted.length, 2)
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("--text - reads the text from standard input", () =>
    Effect.gen(function*() {
      const { port, submitted } = yield* smsc()
      const { exit, stderr } = yield* runSmpp(["send", ...target(port), ...message, "--text", "-"], "from stdin\n")
      assert.isTrue(Exit.isSuccess(exit), stderr)
      assert.strictEqual(new TextDecoder().decode(submitted[0]!.shortMessage), "from stdin")
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("a refused bind exits with failure and names the status", () =>
    Effect.gen(function*() {
      const { port, submitted } = yield* smsc()
      const { exit, stderr, stdout } = yield* runSmpp(["send", ...target(port, "wrong"), ...message, "--text", "Hi"])
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(stdout, "")
      assert.include(stderr, "smpp send:")
      assert.include(stderr, "refused the bind")
      assert.include(stderr, "ESME_RINVPASWD (0x0000000e)")
      assert.strictEqual(submitted.length, 0)
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("a refused submit exits with failure and names the status", () =>
    Effect.gen(function*() {
      const { port } = yield* smsc({ status: () => CommandStatus.ESME_RINVDSTADR })
      const { exit, stderr, stdout } = yield* runSmpp(["send", ...target(port), ...message, "--text", "Hi", "--dlr"])
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(stdout, "")
      assert.include(stderr, "the SMSC refused the message: ESME_RINVDSTADR (0x0000000b)")
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("a receipt other than DELIVRD is printed, and the command fails", () =>
    Effect.gen(function*() {
      const { port } = yield* smsc({ stat: () => "UNDELIVERABLE" })
      const { exit, stderr, stdout } = yield* runSmpp(["send", ...target(port), ...message, "--text", "Hi", "--dlr"])
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(stdout, `id ${idOf(1)} UNDELIV err:012`)
      assert.include(stderr, `not delivered: ${idOf(1)} UNDELIV`)
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("no receipt within --timeout: failure naming the message", () =>
    Effect.gen(function*() {
      // an SMSC that accepts the message but never sends its receipt
      const server = yield* SmppServer.make({
        host: HOST,
        port: 0,
        authenticate: SmppServer.passwords({ [SYSTEM_ID]: PASSWORD }),
        handlers: { submit_sm: () => Effect.succeed(Pdu.make("submit_sm_resp", { messageId: "m-1" })) }
      }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))
      const { exit, stderr, stdout } = yield* runSmpp([
        "send", ...target(server.address!.port), ...message, "--text", "Hi", "--dlr", "--timeout", "1"
      ])
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(stdout, "")
      assert.include(stderr, "timed out after 1 s waiting for the receipt of m-1")
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("nothing listening: a connection error, at once", () =>
    Effect.gen(function*() {
      // a port that was free a moment ago
      const port = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const probe = Net.createServer()
          probe.listen(0, HOST, () => {
            const { port } = probe.address() as Net.AddressInfo
            probe.close(() => resolve(port))
          })
        })
      )
      const { exit, stderr } = yield* runSmpp(["send", ...target(port), ...message, "--text", "Hi"])
      assert.isTrue(Exit.isFailure(exit))
      assert.include(stderr, `cannot connect to ${HOST}:${port}`)
    }).pipe(Effect.timeout("15 seconds")))

  it.live("bad values are refused with a clear message, before any connection", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
        [["--port", "70000"], "--port (or SMPP_PORT) must be an integer from 1 to 65535"],
        [["--port", "0"], "--port (or SMPP_PORT) must be an integer from 1 to 65535"],
        [["--system-id", ""], "--system-id (or SMPP_SYSTEM_ID) must be 1 to 15 characters"],
        [["--system-id", "x".repeat(16)], "--system-id (or SMPP_SYSTEM_ID) must be 1 to 15 characters"],
        [["--password", "123456789"], "--password (or SMPP_PASSWORD) must be at most 8 characters"],
        [["--to", "1".repeat(21)], "--to must be 1 to 20 characters"],
        [["--timeout", "0"], "--timeout must be more than 0"],
        [["--encoding", "utf8"], "Expected one of the following cases: auto, gsm, latin1, ucs2"]
      ]
      const defaults: ReadonlyArray<[string, string]> = [
        ["--system-id", "a"], ["--password", "b"], ["--from", "Shop"], ["--to", "4912345678"], ["--text", "Hi"]
      ]
      for (const [flags, error] of cases) {
        const args = ["send", ...defaults.filter(([flag]) => !flags.includes(flag)).flat(), ...flags]
        const { exit, stderr } = yield* runSmpp(args)
        assert.isTrue(Exit.isFailure(exit), flags.join(" "))
        assert.include(stderr, error, flags.join(" "))
      }
    }).pipe(Effect.timeout("15 seconds")))

  it.live("SMPP_HOST / SMPP_PORT / SMPP_SYSTEM_ID / SMPP_PASSWORD stand in for the flags", () =>
    Effect.gen(function*() {
      const { port } = yield* smsc()
      const env = (entries: ReadonlyArray<[string, string]>) => ConfigProvider.fromMap(new Map(entries))
      const good = yield* runSmpp(["send", ...message, "--text", "Hi"]).pipe(
        Effect.withConfigProvider(env([
          ["SMPP_HOST", HOST],
          ["SMPP_PORT", String(port)],
          ["SMPP_SYSTEM_ID", SYSTEM_ID],
          ["SMPP_PASSWORD", PASSWORD]
        ]))
      )
      assert.isTrue(Exit.isSuccess(good.exit), good.stderr)
      assert.strictEqual(good.stdout, `id ${idOf(1)}`)
      // flags win over the environment
      const flags = yield* runSmpp(["send", "--port", String(port), "--password", PASSWORD, ...message, "--text", "Hi"]).pipe(
        Effect.withConfigProvider(env([
          ["SMPP_HOST", HOST],
          ["SMPP_PORT", "1"],
          ["SMPP_SYSTEM_ID", SYSTEM_ID],
          ["SMPP_PASSWORD", "wrong"]
        ]))
      )
      assert.isTrue(Exit.isSuccess(flags.exit), flags.stderr)
      const badPort = yield* runSmpp(["send", ...message, "--text", "Hi"]).pipe(
        Effect.withConfigProvider(env([["SMPP_PORT", "99999"], ["SMPP_SYSTEM_ID", "a"], ["SMPP_PASSWORD", "b"]]))
      )
      assert.isTrue(Exit.isFailure(badPort.exit))
      assert.include(badPort.stderr, "--port (or SMPP_PORT) must be an integer from 1 to 65535")
      const noAccount = yield* runSmpp(["send", ...message, "--text", "Hi"]).pipe(
        Effect.withConfigProvider(env([]))
      )
      assert.isTrue(Exit.isFailure(noAccount.exit))
      assert.include(noAccount.stderr, "--system-id")
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it("matches receipt ids written differently from the submit_sm_resp's", () => {
    assert.isTrue(sameMessageId("abc123", "abc123"))
    assert.isTrue(sameMessageId("ABC123", "abc123"))
    assert.isTrue(sameMessageId("00000000000042", "42"))
    assert.isTrue(sameMessageId("ff", "255"))
    assert.isTrue(sameMessageId("255", "00FF"))
    assert.isTrue(sameMessageId("0", "0000"))
    assert.isFalse(sameMessageId("42", "43"))
    assert.isFalse(sameMessageId("m-1", "m-2"))
    assert.isFalse(sameMessageId("", "0"))
    assert.isFalse(sameMessageId("abc", "xyz"))
  })
})

// ---------------------------------------------------------------------------------------------
// node-smpp's server (npm `smpp`)

interface NodeSmppPdu {
  readonly command: string
  readonly [field: string]: unknown
  response(options?: Record<string, unknown>): NodeSmppPdu
}
interface NodeSmppSession {
  on(event: string, listener: (pdu: NodeSmppPdu) => void): void
  send(pdu: NodeSmppPdu): boolean
  deliver_sm(options: Record<string, unknown>): boolean
  close(): void
}
interface NodeSmppServer {
  listen(port: number, host: string, callback: () => void): void
  address(): Net.AddressInfo
  close(callback?: () => void): void
  readonly sessions: Array<NodeSmppSession>
}
const createServer = (smpp as unknown as {
  readonly createServer: (listener: (session: NodeSmppSession) => void) => NodeSmppServer
}).createServer

/**
 * node-smpp's server for the Scope: binds alice/secret, answers submit_sm with an id in hex
 * and sends the receipt with the id in decimal, as text only (no receipt TLVs).
 */
const nodeSmsc = (log: Array<string>) =>
  Effect.acquireRelease(
    Effect.async<NodeSmppServer>((resume) => {
      let n = 0x1f3a
      const server = createServer((session) => {
        session.on("error" as string, () => {})
        const bind = (pdu: NodeSmppPdu) => {
          log.push(pdu.command)
          const ok = pdu.system_id === SYSTEM_ID && pdu.password === PASSWORD
          session.send(pdu.response(ok ? {} : { command_status: CommandStatus.ESME_RINVPASWD }))
        }
        session.on("bind_transceiver", bind)
        session.on("bind_transmitter", bind)
        session.on("enquire_link", (pdu) => session.send(pdu.response()))
        session.on("unbind", (pdu) => {
          log.push("unbind")
          session.send(pdu.response())
          session.close()
        })
        session.on("submit_sm", (pdu) => {
          const id = (n++).toString(16)
          log.push(`submit_sm ${String(pdu.short_message && (pdu.short_message as { message?: unknown }).message)}`)
          session.send(pdu.response({ message_id: id }))
          if (pdu.registered_delivery) {
            session.deliver_sm({
              source_addr: pdu.destination_addr,
              destination_addr: pdu.source_addr,
              esm_class: 4,
              short_message: `id:${parseInt(id, 16)} sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:`
            })
          }
        })
      })
      server.listen(0, HOST, () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        for (const session of server.sessions) session.close()
        server.close(() => resume(Effect.void))
      })
  )

describe("smpp send against node-smpp's server", () => {
  it.live("--dlr: the receipt (text only, id in decimal) is matched to the hex id", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const server = yield* nodeSmsc(log)
      const port = server.address().port
      const { exit, stderr, stdout } = yield* runSmpp(["send", ...target(port), ...message, "--text", "Hello", "--dlr"])
      assert.isTrue(Exit.isSuccess(exit), stderr)
      assert.strictEqual(stdout, "id 1f3a DELIVRD")
      assert.deepStrictEqual(log.slice(0, 2), ["bind_transceiver", "submit_sm Hello"])
      assert.include(log, "unbind")
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))

  it.live("without --dlr: bind_transmitter, the id printed; a wrong password fails", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const server = yield* nodeSmsc(log)
      const port = server.address().port
      const good = yield* runSmpp(["send", ...target(port), ...message, "--text", "Hi"])
      assert.isTrue(Exit.isSuccess(good.exit), good.stderr)
      assert.strictEqual(good.stdout, "id 1f3a")
      assert.strictEqual(log[0], "bind_transmitter")
      const bad = yield* runSmpp(["send", ...target(port, "nope"), ...message, "--text", "Hi"])
      assert.isTrue(Exit.isFailure(bad.exit))
      assert.include(bad.stderr, "ESME_RINVPASWD")
    }).pipe(Effect.scoped, Effect.timeout("15 seconds")))
})
