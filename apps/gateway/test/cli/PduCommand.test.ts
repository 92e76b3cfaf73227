import * as Codec from "@effect-smpp/schema/Codec"
import * as Pdu from "@effect-smpp/schema/Pdu"
import { assert, describe, it } from "@effect/vitest"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Arbitrary from "effect/Arbitrary"
import type * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Cli from "../../src/cli/Cli.js"
import * as PduCommand from "../../src/cli/PduCommand.js"
import * as Stdin from "../../src/cli/Stdin.js"

const ENQUIRE_LINK_42 = "0000001000000015000000000000002a"

/** Runs `smpp <args>` in process, with standard input holding `stdin`, capturing what it prints. */
const smpp = (args: ReadonlyArray<string>, stdin = "") =>
  Effect.gen(function*() {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    const base = yield* Effect.console
    const line = (into: Array<string>) => (...parts: ReadonlyArray<unknown>) => {
      into.push(parts.map(String).join(" "))
    }
    const console: Console.Console = {
      ...base,
      log: (...parts) => Effect.sync(() => line(stdout)(...parts)),
      error: (...parts) => Effect.sync(() => line(stderr)(...parts)),
      unsafe: { ...base.unsafe, log: line(stdout), error: line(stderr) }
    }
    const exit = yield* Cli.run(["node", "smpp", ...args]).pipe(
      Effect.withConsole(console),
      Effect.provide(Layer.merge(NodeContext.layer, Stdin.layerText(stdin))),
      Effect.exit
    )
    return { exit, stdout: stdout.join("\n"), stderr: stderr.join("\n") }
  })

const hexOf = (pdu: Pdu.Pdu) => Buffer.from(Codec.encode(pdu)).toString("hex")

const examples: ReadonlyArray<Pdu.Pdu> = [
  Pdu.EnquireLink.make({ sequenceNumber: 42 }),
  Pdu.GenericNack.make({ commandStatus: 0x401, sequenceNumber: 9 }),
  Pdu.BindTransceiver.make({ systemId: "acme", password: "secret", sequenceNumber: 1 }),
  Pdu.SubmitSm.make({
    sequenceNumber: 7,
    sourceAddr: "Acme",
    destAddrTon: 1,
    destAddrNpi: 1,
    destinationAddr: "491701234567",
    registeredDelivery: 1,
    shortMessage: new TextEncoder().encode("Hello"),
    tlvs: { sarMsgRefNum: 42, sarTotalSegments: 2, sarSegmentSeqnum: 1, "0x1400": new Uint8Array([0xca, 0xfe]) }
  }),
  Pdu.SubmitSmResp.make({ commandStatus: 0x58, sequenceNumber: 7 }),
  Pdu.SubmitMulti.make({
    destAddresses: [{ destFlag: 1, destAddrTon: 1, destAddrNpi: 1, destinationAddr: "4917" }, { destFlag: 2, dlName: "friends" }],
    tlvs: { messagePayload: new Uint8Array(300).fill(0x41) }
  }),
  Pdu.DeliverSm.make({ esmClass: 4, tlvs: { receiptedMessageId: "abc123", messageState: 2 } })
]

describe("smpp pdu", () => {
  it.effect("decode prints the PDU as one pretty-printed JSON object", () =>
    Effect.gen(function*() {
      const { exit, stderr, stdout } = yield* smpp(["pdu", "decode", ENQUIRE_LINK_42])
      assert.isTrue(Exit.isSuccess(exit))
      assert.strictEqual(stderr, "")
      assert.strictEqual(
        stdout,
        JSON.stringify({ command: "enquire_link", commandStatus: 0, sequenceNumber: 42 }, null, 2)
      )
    }))

  it.effect("decode takes whitespace, a 0x prefix, upper case and several arguments", () =>
    Effect.gen(function*() {
      for (
        const args of [
          ["0x0000001000000015000000000000002A"],
          [" 00000010 00000015\n00000000 0000002a "],
          ["00000010", "00000015", "00000000", "0000002a"]
        ]
      ) {
        const { exit, stdout } = yield* smpp(["pdu", "decode", ...args])
        assert.isTrue(Exit.isSuccess(exit), args.join(" "))
        assert.strictEqual(JSON.parse(stdout).sequenceNumber, 42)
      }
    }))

  it.effect("decode fails with the error and the command_status it maps to", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[string, string, string]> = [
        [ENQUIRE_LINK_42.slice(0, -1), "even number of digits", "ESME_RINVCMDLEN (0x00000002)"],
        ["zz", "not a hex digit", "ESME_RINVCMDLEN (0x00000002)"],
        [ENQUIRE_LINK_42.slice(0, -2), "command_length 16 but 15 octets given", "ESME_RINVCMDLEN (0x00000002)"],
        ["0000001000000099000000000000002a", "command_id 0x00000099", "ESME_RINVCMDID (0x00000003)"],
        // enquire_link with a 2-octet body it must not have
        ["0000001200000015000000000000002a0000", "enquire_link has no body", "ESME_RINVCMDLEN (0x00000002)"]
      ]
      for (const [hex, error, status] of cases) {
        const { exit, stderr, stdout } = yield* smpp(["pdu", "decode", hex])
        assert.isTrue(Exit.isFailure(exit), hex)
        assert.strictEqual(stdout, "", hex)
        assert.include(stderr, error, hex)
        assert.include(stderr, `command_status: ${status}`, hex)
      }
    }))

  it.effect("encode is the inverse of decode", () =>
    Effect.gen(function*() {
      for (const pdu of examples) {
        const hex = hexOf(pdu)
        const decoded = yield* smpp(["pdu", "decode", hex])
        assert.isTrue(Exit.isSuccess(decoded.exit), hex)
        const encoded = yield* smpp(["pdu", "encode", decoded.stdout])
        assert.isTrue(Exit.isSuccess(encoded.exit), decoded.stdout)
        assert.strictEqual(encoded.stdout, hex)
      }
    }))

  it("encode(decode(hex)) is hex for any PDU that encodes", () => {
    FastCheck.assert(
      FastCheck.property(Arbitrary.make(Pdu.Pdu), (pdu) => {
        const bytes = Codec.encodeEither(pdu)
        if (Either.isLeft(bytes)) return // outside what the wire can carry (e.g. short_message and message_payload)
        const hex = Buffer.from(bytes.right).toString("hex")
        const json = Either.getOrThrow(PduCommand.decodeHex(hex))
        assert.strictEqual(Either.getOrThrow(PduCommand.encodeJson(json)), hex)
      }),
      { numRuns: 40 }
    )
  })

  it.effect("encode - reads the JSON from standard input, and fields left out take their defaults", () =>
    Effect.gen(function*() {
      const { exit, stdout } = yield* smpp(["pdu", "encode", "-"], `{ "command": "enquire_link", "sequenceNumber": 42 }\n`)
      assert.isTrue(Exit.isSuccess(exit))
      assert.strictEqual(stdout, ENQUIRE_LINK_42)
      const throttled = yield* smpp(["pdu", "encode", `{"command":"submit_sm_resp","commandStatus":"ESME_RTHROTTLED"}`])
      assert.strictEqual(throttled.stdout, "00000010800000040000005800000000")
    }))

  it.effect("encode fails on bad JSON, naming the field", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[string, string]> = [
        ["{nope", "not JSON"],
        [`{"command":"submit_sm","shortMessage":"abc"}`, "submit_sm.shortMessage: hex must have an even number of digits"],
        [`{"command":"submit_sm","sourceAdr":"x"}`, "submit_sm.sourceAdr: is not a field of submit_sm"],
        [`{"command":"submit_sm","sourceAddr":"${"x".repeat(21)}"}`, "submit_sm.sourceAddr"],
        [`{"command":"submit_sm","shortMessage":"41","tlvs":{"messagePayload":"41"}}`, "short_message and message_payload"]
      ]
      for (const [json, error] of cases) {
        const { exit, stderr, stdout } = yield* smpp(["pdu", "encode", json])
        assert.isTrue(Exit.isFailure(exit), json)
        assert.strictEqual(stdout, "", json)
        assert.include(stderr, error, json)
      }
    }))

  it.effect("--version prints the package's version, --help lists the commands", () =>
    Effect.gen(function*() {
      const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8"))
      const version = yield* smpp(["--version"])
      assert.isTrue(Exit.isSuccess(version.exit))
      assert.strictEqual(version.stdout.trim(), pkg.version)
      const help = yield* smpp(["--help"])
      assert.isTrue(Exit.isSuccess(help.exit))
      assert.include(help.stdout, "pdu decode <hex>")
      assert.include(help.stdout, "pdu encode <json>")
    }))

  it.effect("a missing argument fails", () =>
    Effect.gen(function*() {
      const { exit, stderr } = yield* smpp(["pdu", "decode"])
      assert.isTrue(Exit.isFailure(exit))
      assert.include(stderr, "<hex>")
    }))

  it("the installed bin decodes, and exits 1 on bad hex", () => {
    const bin = fileURLToPath(new URL("../../bin/smpp.js", import.meta.url))
    const root = fileURLToPath(new URL("../../../..", import.meta.url))
    const run = (...args: Array<string>) =>
      spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", timeout: 60_000 })
    const good = run("pdu", "decode", ENQUIRE_LINK_42)
    assert.strictEqual(good.status, 0, good.stderr)
    const json = JSON.parse(good.stdout)
    assert.strictEqual(json.command, "enquire_link")
    assert.strictEqual(json.sequenceNumber, 42)
    const bad = run("pdu", "decode", ENQUIRE_LINK_42.slice(0, -1))
    assert.strictEqual(bad.status, 1, bad.stderr)
    assert.include(bad.stderr, "ESME_RINVCMDLEN")
  }, 120_000)
})
