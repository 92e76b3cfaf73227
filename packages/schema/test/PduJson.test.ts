import { assert, describe, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as Codec from "../src/Codec.js"
import type { CommandName } from "../src/CommandId.js"
import * as Pdu from "../src/Pdu.js"
import * as PduJson from "../src/PduJson.js"

const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ""), "hex"))
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")

const ok = (json: unknown): Pdu.Pdu => {
  const result = PduJson.fromJson(json)
  if (Either.isLeft(result)) assert.fail(result.left.message)
  return result.right
}

const err = (json: unknown): PduJson.PduJsonError => {
  const result = PduJson.fromJson(json)
  if (Either.isRight(result)) assert.fail(`expected an error for ${JSON.stringify(json)}`)
  return result.left
}

const encodeHex = (pdu: Pdu.Pdu): string => Either.match(Codec.encodeEither(pdu), { onLeft: (e) => `error ${e.message}`, onRight: hex })

const names = Object.keys(Pdu.schemas) as Array<CommandName>

describe("PduJson", () => {
  it("writes an enquire_link as its header fields, command first", () => {
    const pdu = Either.getOrThrow(Codec.decode(bytes("00000010 00000015 00000000 0000002a")))
    const json = PduJson.toJson(pdu)
    assert.deepStrictEqual(json, { command: "enquire_link", commandStatus: 0, sequenceNumber: 42 })
    assert.deepStrictEqual(Object.keys(json), ["command", "commandStatus", "sequenceNumber"])
  })

  it("writes body fields in wire order, octets as lowercase hex and TLVs by name or tag", () => {
    const pdu = Pdu.SubmitSm.make({
      sequenceNumber: 7,
      destinationAddr: "491701234567",
      shortMessage: new Uint8Array([0xca, 0xfe]),
      tlvs: { "0x1400": new Uint8Array([0xab, 0xcd]), sarMsgRefNum: 42, callbackNum: [new Uint8Array([1, 2, 3, 0xff])] }
    })
    const json = PduJson.toJson(pdu)
    assert.deepStrictEqual(Object.keys(json), [
      "command",
      "commandStatus",
      "sequenceNumber",
      ...Object.keys(Pdu.SubmitSm.fields).filter((k) => !["_tag", "commandStatus", "sequenceNumber", "tlvs"].includes(k)),
      "tlvs"
    ])
    assert.strictEqual(json.command, "submit_sm")
    assert.strictEqual(json.shortMessage, "cafe")
    assert.strictEqual(json.destinationAddr, "491701234567")
    assert.deepStrictEqual(json.tlvs, { "0x1400": "abcd", sarMsgRefNum: 42, callbackNum: ["010203ff"] })
    assert.deepStrictEqual(Object.keys(json.tlvs as object), Object.keys(pdu.tlvs))
  })

  it("leaves tlvs out when there are none", () => {
    const json = PduJson.toJson(Pdu.SubmitSmResp.make({ messageId: "abc" }))
    assert.deepStrictEqual(json, { command: "submit_sm_resp", commandStatus: 0, sequenceNumber: 0, messageId: "abc" })
  })

  it("fills fields left out with the defaults of make", () => {
    assert.deepStrictEqual(ok({ command: "submit_sm", destinationAddr: "123" }), Pdu.SubmitSm.make({ destinationAddr: "123" }))
    assert.deepStrictEqual(ok({ command: "bind_transceiver", systemId: "me" }), Pdu.BindTransceiver.make({ systemId: "me" }))
    assert.strictEqual((ok({ command: "bind_transmitter" }) as Pdu.BindTransmitter).interfaceVersion, 0x34)
    assert.deepStrictEqual(ok({ command: "enquire_link" }), Pdu.EnquireLink.make({}))
    // A response's trailing message_id stays absent, as make leaves it.
    assert.isFalse("messageId" in ok({ command: "submit_sm_resp", commandStatus: 0x58 }))
  })

  it("reads commandStatus as a number, a name or hex", () => {
    assert.strictEqual(ok({ command: "submit_sm_resp", commandStatus: "ESME_RTHROTTLED" }).commandStatus, 0x58)
    assert.strictEqual(ok({ command: "submit_sm_resp", commandStatus: 0x58 }).commandStatus, 0x58)
    assert.strictEqual(ok({ command: "generic_nack", commandStatus: "0x00000401" }).commandStatus, 0x401)
    const e = err({ command: "generic_nack", commandStatus: "ESME_RNOPE" })
    assert.strictEqual(e.field, "commandStatus")
    assert.include(e.message, "ESME_RNOPE")
  })

  it("reads hex in either case and tags in either case", () => {
    const pdu = ok({ command: "deliver_sm", shortMessage: "CAfe", tlvs: { "0x14AB": "FF" } }) as Pdu.DeliverSm
    assert.strictEqual(hex(pdu.shortMessage), "cafe")
    assert.strictEqual(hex((pdu.tlvs as Record<string, Uint8Array>)["0x14ab"]), "ff")
    assert.strictEqual(err({ command: "deliver_sm", tlvs: { "0x14ab": "", "0x14AB": "" } }).field, "tlvs.0x14AB")
  })

  it("keeps the TLVs in the order given, so the bytes come back the same", () => {
    const wire = "00000031 00000004 00000000 00000001" + // submit_sm header
      "00".repeat(17) + // empty mandatory fields, sm_length 0
      "1400 0001 aa" + "020f 0001 02" + "020c 0002 0007" // unknown tag, sar_segment_seqnum, sar_msg_ref_num
    const pdu = Either.getOrThrow(Codec.decode(bytes(wire)))
    const json = JSON.parse(JSON.stringify(PduJson.toJson(pdu)))
    assert.deepStrictEqual(Object.keys(json.tlvs), ["0x1400", "sarSegmentSeqnum", "sarMsgRefNum"])
    const back = ok(json)
    assert.deepStrictEqual(Object.keys((back as Pdu.SubmitSm).tlvs), ["0x1400", "sarSegmentSeqnum", "sarMsgRefNum"])
    assert.strictEqual(encodeHex(back), wire.replace(/ /g, ""))
  })

  it("names the field in its errors", () => {
    const cases: Array<[unknown, PduJson.PduJsonError["reason"], string | undefined, string]> = [
      [[1], "NotAnObject", undefined, "JSON object"],
      [{}, "UnknownCommand", "command", "missing"],
      [{ command: "submit_smx" }, "UnknownCommand", "command", "submit_smx"],
      [{ command: "submit_sm", shortMessage: "abc" }, "InvalidHex", "shortMessage", "even"],
      [{ command: "submit_sm", shortMessage: "zz" }, "InvalidHex", "shortMessage", "hex digit"],
      [{ command: "submit_sm", shortMessage: 12 }, "InvalidValue", "shortMessage", "hex string"],
      [{ command: "submit_sm", shortMessage: "00".repeat(255) }, "InvalidValue", "shortMessage", "254"],
      [{ command: "submit_sm", sourceAdr: "x" }, "UnknownField", "sourceAdr", "not a field of submit_sm"],
      [{ command: "submit_sm", sourceAddr: "x".repeat(21) }, "InvalidValue", "sourceAddr", "at most 20"],
      [{ command: "submit_sm", esmClass: 256 }, "InvalidValue", "esmClass", "255"],
      [{ command: "submit_sm", sequenceNumber: "1" }, "InvalidValue", "sequenceNumber", "number"],
      [{ command: "submit_sm", tlvs: { sarMsgRefNum: 70000 } }, "InvalidValue", "tlvs.sarMsgRefNum", "65535"],
      [{ command: "submit_sm", tlvs: { messagePayload: "0" } }, "InvalidHex", "tlvs.messagePayload", "even"],
      [{ command: "submit_sm", tlvs: { callbackNum: "01" } }, "InvalidValue", "tlvs.callbackNum", "4–19 octets"],
      [{ command: "submit_sm", tlvs: { smsc: 1 } }, "UnknownField", "tlvs.smsc", "0x1400"],
      [{ command: "submit_sm", tlvs: [] }, "InvalidValue", "tlvs", "object"],
      [{ command: "enquire_link", tlvs: {} }, "UnknownField", "tlvs", "not a field of enquire_link"],
      [{ command: "submit_multi" }, "InvalidValue", "destAddresses", "missing"],
      [
        { command: "submit_multi", destAddresses: [{ destFlag: 2, dlName: "x".repeat(21) }] },
        "InvalidValue",
        "destAddresses[0].dlName",
        "at most 20"
      ]
    ]
    for (const [json, reason, field, text] of cases) {
      const e = err(json)
      assert.strictEqual(e.reason, reason, JSON.stringify(json))
      assert.strictEqual(e.field, field, JSON.stringify(json))
      assert.include(e.message, text, JSON.stringify(json))
      if (field !== undefined) assert.include(e.message, field)
    }
  })

  it("converts hex both ways", () => {
    assert.strictEqual(PduJson.hexFromBytes(new Uint8Array([0, 1, 0xab, 0xff])), "0001abff")
    assert.strictEqual(hex(Either.getOrThrow(PduJson.bytesFromHex("0001ABff"))), "0001abff")
    assert.strictEqual(Either.getOrThrow(PduJson.bytesFromHex("")).length, 0)
    assert.isTrue(Either.isLeft(PduJson.bytesFromHex("0")))
    assert.isTrue(Either.isLeft(PduJson.bytesFromHex("0g")))
    assert.isTrue(Either.isLeft(PduJson.bytesFromHex(" 00")))
  })

  it("is a Schema from JSON text to the PDU", () => {
    const schema = Schema.parseJson(PduJson.PduJson)
    const pdu = Schema.decodeUnknownSync(schema)(`{"command":"enquire_link","sequenceNumber":42}`)
    assert.deepStrictEqual(pdu, Pdu.EnquireLink.make({ sequenceNumber: 42 }))
    assert.strictEqual(
      Schema.encodeSync(schema)(pdu),
      `{"command":"enquire_link","commandStatus":0,"sequenceNumber":42}`
    )
    const failed = Schema.decodeUnknownEither(schema)(`{"command":"enquire_link","sequenceNumber":-1}`)
    assert.isTrue(Either.isLeft(failed))
    if (Either.isLeft(failed)) assert.include(failed.left.message, "enquire_link.sequenceNumber")
  })

  describe("round trip of every PDU kind", () => {
    for (const name of names) {
      it(name, () => {
        const arb = Arbitrary.make(Pdu.schemas[name] as unknown as Schema.Schema<Pdu.Pdu>)
        FastCheck.assert(
          FastCheck.property(arb, (pdu) => {
            const json = PduJson.toJson(pdu)
            assert.strictEqual(json.command, name)
            assert.deepStrictEqual(Object.keys(json).slice(0, 3), ["command", "commandStatus", "sequenceNumber"])
            // Through JSON text, as the CLI and an HTTP API carry it.
            const back = ok(JSON.parse(JSON.stringify(json)))
            assert.deepStrictEqual(back, pdu)
            const tlvs = (pdu as { readonly tlvs?: object }).tlvs
            if (tlvs !== undefined) {
              assert.deepStrictEqual(Object.keys((back as { readonly tlvs: object }).tlvs), Object.keys(tlvs))
            }
            assert.deepStrictEqual(PduJson.toJson(back), json)
            assert.strictEqual(encodeHex(back), encodeHex(pdu))
          }),
          { numRuns: 30 }
        )
      })
    }
  })
})
