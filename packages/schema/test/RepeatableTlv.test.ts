/**
 * The TLVs SMPP 3.4 lets occur more than once in a PDU (5.3.2.36–5.3.2.38): callback_num,
 * callback_num_pres_ind and callback_num_atag, typed as lists. Every other TLV still occurs
 * at most once.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import * as Arbitrary from "effect/Arbitrary"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import smpp from "smpp"
import * as Codec from "../src/Codec.js"
import { CommandStatus as S } from "../src/CommandStatus.js"
import type { DecodeError } from "../src/DecodeError.js"
import * as Pdu from "../src/Pdu.js"
import * as PduJson from "../src/PduJson.js"
import * as Tlv from "../src/Tlv.js"
import { cstr, frame, fromHex, text, tlv, toHex } from "./fixtures/hex.js"

const SEQ = 0x2a

/** The mandatory part of a submit_sm / deliver_sm (same layout), short_message "hi". */
const smBody = [
  cstr(""), // service_type
  "01",
  "01",
  cstr("447700900000"), // source_addr
  "01",
  "01",
  cstr("447700900123"), // destination_addr
  "00", // esm_class
  "00", // protocol_id
  "00", // priority_flag
  "00", // schedule_delivery_time
  "00", // validity_period
  "00", // registered_delivery
  "00", // replace_if_present_flag
  "00", // data_coding
  "00", // sm_default_msg_id
  "02" + text("hi")
].join("")

/** The mandatory part of a data_sm. */
const dataSmBody = [cstr(""), "01", "01", cstr("4477"), "01", "01", cstr("4478"), "00", "00", "00"].join("")

// callback_num: digit mode, ton, npi, then the digits.
const cb1 = "000101" + text("4477001")
const cb2 = "010101" + text("4477002")
const cb3 = "000000" + text("112")
// callback_num_atag: data coding, then the display text.
const atag1 = "00" + text("Office")
const atag2 = "00" + text("Mobile")

const CB_NUM = 0x0381
const CB_PRES = 0x0302
const CB_ATAG = 0x0303

/** Each number with its presentation indicator and tag, with other TLVs in between. */
const interleaved = [
  tlv(CB_NUM, cb1),
  tlv(CB_PRES, "01"),
  tlv(0x1400, "cafe"), // vendor TLV, kept raw
  tlv(CB_ATAG, atag1),
  tlv(CB_NUM, cb2),
  tlv(0x0204, "0007"), // user_message_reference
  tlv(CB_PRES, "03"),
  tlv(CB_ATAG, atag2),
  tlv(CB_NUM, cb3)
].join("")

const decodeOk = (bytes: Uint8Array): Pdu.Pdu => {
  const result = Codec.decode(bytes)
  if (Either.isLeft(result)) return assert.fail(`${toHex(bytes)}: ${result.left.message}`)
  return result.right
}

const decodeError = (bytes: Uint8Array): DecodeError => {
  const result = Codec.decode(bytes)
  if (Either.isRight(result)) return assert.fail(`${toHex(bytes)} decoded`)
  return result.left
}

const tlvsOf = (pdu: Pdu.Pdu): Tlv.Tlvs => (pdu as Pdu.SubmitSm).tlvs

const hexList = (list: ReadonlyArray<Uint8Array> | undefined) => list?.map(toHex)

describe("repeatable TLVs", () => {
  it("are callback_num, callback_num_pres_ind and callback_num_atag, and no other", () => {
    assert.sameMembers([...Tlv.repeatableNames], ["callbackNum", "callbackNumPresInd", "callbackNumAtag"])
    const names: ReadonlySet<string> = Tlv.repeatableNames
    for (const def of Tlv.byTag.values()) assert.strictEqual(def.repeatable, names.has(def.name), def.name)
  })

  const kinds = [["deliver_sm", smBody], ["submit_sm", smBody], ["data_sm", dataSmBody]] as const
  describe.each(kinds)("%s", (command, body) => {
    const bytes = frame(command, SEQ, body, interleaved)

    it("decodes every occurrence, in wire order, interleaved with other TLVs", () => {
      const pdu = decodeOk(bytes)
      assert.strictEqual(pdu._tag, command)
      const tlvs = tlvsOf(pdu)
      assert.deepStrictEqual(hexList(tlvs.callbackNum), [cb1, cb2, cb3])
      assert.deepStrictEqual(tlvs.callbackNumPresInd, [1, 3])
      assert.deepStrictEqual(hexList(tlvs.callbackNumAtag), [atag1, atag2])
      assert.strictEqual(tlvs.userMessageReference, 7)
      assert.strictEqual(toHex(tlvs["0x1400"]!), "cafe")
      // Each list stands where its TLV first occurred.
      assert.deepStrictEqual(Object.keys(tlvs), [
        "callbackNum",
        "callbackNumPresInd",
        "0x1400",
        "callbackNumAtag",
        "userMessageReference"
      ])
      assert.isTrue(Schema.is(Pdu.Pdu)(pdu), "the decoded PDU satisfies its Schema")
    })

    it("re-encodes each list's occurrences together, where the first one stood", () => {
      const canonical = frame(
        command,
        SEQ,
        body,
        tlv(CB_NUM, cb1),
        tlv(CB_NUM, cb2),
        tlv(CB_NUM, cb3),
        tlv(CB_PRES, "01"),
        tlv(CB_PRES, "03"),
        tlv(0x1400, "cafe"),
        tlv(CB_ATAG, atag1),
        tlv(CB_ATAG, atag2),
        tlv(0x0204, "0007")
      )
      const pdu = decodeOk(bytes)
      assert.strictEqual(toHex(Codec.encode(pdu)), toHex(canonical))
      assert.deepStrictEqual(decodeOk(canonical), pdu)
      // In that canonical order, decode then encode gives the octets back byte for byte.
      assert.strictEqual(toHex(Codec.encode(decodeOk(canonical))), toHex(canonical))
    })
  })

  it("round-trips a PDU built with lists: encode, then decode", () => {
    const tlvs: Tlv.Tlvs = {
      sarMsgRefNum: 1,
      callbackNum: [fromHex(cb1), fromHex(cb2), fromHex(cb3)],
      callbackNumAtag: [fromHex(atag1), new Uint8Array(0)],
      callbackNumPresInd: [0, 1, 2],
      "0x1400": fromHex("ab")
    }
    assert.isTrue(Schema.is(Tlv.Tlvs)(tlvs))
    // `make` would list the TLVs in declaration order; these are in the order to write.
    const pdu: Pdu.SubmitSm = {
      ...Pdu.SubmitSm.make({ sequenceNumber: 9, destinationAddr: "4477", shortMessage: fromHex(text("call me")) }),
      tlvs
    }
    const bytes = Codec.encode(pdu)
    // Every element in order, each as its own TLV.
    const written = tlv(0x020c, "0001") + tlv(CB_NUM, cb1) + tlv(CB_NUM, cb2) + tlv(CB_NUM, cb3) +
      tlv(CB_ATAG, atag1) + tlv(CB_ATAG, "") + tlv(CB_PRES, "00") + tlv(CB_PRES, "01") + tlv(CB_PRES, "02") +
      tlv(0x1400, "ab")
    assert.isTrue(toHex(bytes).endsWith(written), toHex(bytes))
    assert.deepStrictEqual(decodeOk(bytes), pdu)
  })

  it("round-trips 0–3 occurrences of each, among the other TLVs (property)", () => {
    const list = <A>(arb: FastCheck.Arbitrary<A>) => FastCheck.array(arb, { maxLength: 3 })
    const octets = (min: number, max: number) => FastCheck.uint8Array({ minLength: min, maxLength: max })
    const arbitrary = FastCheck.tuple(
      Arbitrary.make(Pdu.DeliverSm),
      list(octets(4, 19)),
      list(FastCheck.integer({ min: 0, max: 255 })),
      list(octets(0, 65))
    ).map(([pdu, callbackNum, callbackNumPresInd, callbackNumAtag]) => {
      const tlvs: Record<string, unknown> = { ...pdu.tlvs }
      delete tlvs.messagePayload // short_message may be non-empty
      delete tlvs.callbackNum
      delete tlvs.callbackNumPresInd
      delete tlvs.callbackNumAtag
      for (const [key, value] of Object.entries({ callbackNum, callbackNumPresInd, callbackNumAtag })) {
        if (value.length > 0) tlvs[key] = value
      }
      return { ...pdu, tlvs } as Pdu.DeliverSm
    })
    FastCheck.assert(
      FastCheck.property(arbitrary, (pdu) => {
        const bytes = Codec.encode(pdu)
        const decoded = decodeOk(bytes)
        assert.deepStrictEqual(decoded, pdu)
        assert.strictEqual(toHex(Codec.encode(decoded)), toHex(bytes))
      }),
      { numRuns: 200 }
    )
  })

  describe("each element keeps its own size check", () => {
    const cases = [
      ["a second callback_num of 3 octets", tlv(CB_NUM, cb1) + tlv(CB_NUM, "000101"), "callbackNum"],
      [
        "a third callback_num of 20 octets",
        tlv(CB_NUM, cb1) + tlv(CB_NUM, cb2) + tlv(CB_NUM, "00".repeat(20)),
        "callbackNum"
      ],
      ["a second callback_num_pres_ind of 2 octets", tlv(CB_PRES, "01") + tlv(CB_PRES, "0101"), "callbackNumPresInd"],
      [
        "a second callback_num_atag of 66 octets",
        tlv(CB_ATAG, atag1) + tlv(CB_ATAG, "00".repeat(66)),
        "callbackNumAtag"
      ]
    ] as const
    it.each(cases)("refuses %s with ESME_RINVPARLEN", (_, tlvs, field) => {
      const error = decodeError(frame("submit_sm", SEQ, smBody, tlvs))
      assert.deepStrictEqual({ reason: error.reason, status: error.status, field: error.field }, {
        reason: "InvalidTlv",
        status: S.ESME_RINVPARLEN,
        field
      })
      assert.strictEqual(error.sequenceNumber, SEQ)
    })

    it("accepts each at its limits", () => {
      const bytes = frame(
        "submit_sm",
        SEQ,
        smBody,
        tlv(CB_NUM, "00".repeat(4)) + tlv(CB_NUM, "00".repeat(19)) + tlv(CB_ATAG, "") + tlv(CB_ATAG, "41".repeat(65))
      )
      const tlvs = tlvsOf(decodeOk(bytes))
      assert.deepStrictEqual(tlvs.callbackNum?.map((b) => b.length), [4, 19])
      assert.deepStrictEqual(tlvs.callbackNumAtag?.map((b) => b.length), [0, 65])
      assert.strictEqual(toHex(Codec.encode(decodeOk(bytes))), toHex(bytes))
    })
  })

  describe("every other TLV still occurs at most once", () => {
    /** A value of the right size for each layout. */
    const valueOf = (def: Tlv.TlvDefinition): string => {
      switch (def.kind) {
        case "u8":
          return "01"
        case "u16":
          return "0001"
        case "u32":
          return "00000001"
        case "flag":
          return ""
        case "networkErrorCode":
          return "030001"
        case "cstring":
          return cstr("a")
        case "octets":
          return "00".repeat(def.min)
      }
    }
    const single = [...Tlv.byTag.values()].filter((def) => !def.repeatable)

    it("has 41 single-valued TLVs", () => {
      assert.strictEqual(single.length, Tlv.byTag.size - 3)
    })

    it("refuses a repeat of any of them with ESME_RINVOPTPARSTREAM, even among callback_num repeats", () => {
      const emptyMessage = smBody.slice(0, -6) + "00" // no short_message: message_payload is allowed
      for (const def of single) {
        const value = tlv(def.tag, valueOf(def))
        const bytes = frame("submit_sm", SEQ, emptyMessage, tlv(CB_NUM, cb1), value, tlv(CB_NUM, cb2), value)
        const error = decodeError(bytes)
        assert.deepStrictEqual({ reason: error.reason, status: error.status, field: error.field }, {
          reason: "InvalidTlv",
          status: S.ESME_RINVOPTPARSTREAM,
          field: def.name
        }, def.name)
        // Once, it is accepted.
        decodeOk(frame("submit_sm", SEQ, emptyMessage, tlv(CB_NUM, cb1), value, tlv(CB_NUM, cb2)))
      }
    })

    it("refuses a repeat of an unknown TLV with ESME_RINVOPTPARSTREAM", () => {
      const error = decodeError(frame("deliver_sm", SEQ, smBody, tlv(0x1400, ""), tlv(CB_PRES, "01"), tlv(0x1400, "")))
      assert.strictEqual(error.status, S.ESME_RINVOPTPARSTREAM)
      assert.strictEqual(error.field, "0x1400")
    })
  })

  describe("encoding refuses", () => {
    const base = Pdu.SubmitSm.make({ sequenceNumber: 3, destinationAddr: "4477" })
    const refused = (tlvs: Record<string, unknown>) => {
      const result = Codec.encodeEither({ ...base, tlvs } as unknown as Pdu.Pdu)
      if (Either.isRight(result)) return assert.fail(`encoded to ${toHex(result.right)}`)
      return result.left
    }

    it("an empty list (it has no wire form), and the Schema refuses it too", () => {
      for (const name of Tlv.repeatableNames) {
        assert.strictEqual(refused({ [name]: [] }).field, name)
        assert.isFalse(Schema.is(Pdu.SubmitSm)({ ...base, tlvs: { [name]: [] } }), name)
      }
    })

    it("a single value where a list is expected", () => {
      assert.strictEqual(refused({ callbackNum: fromHex(cb1) }).field, "callbackNum")
      assert.strictEqual(refused({ callbackNumPresInd: 1 }).field, "callbackNumPresInd")
    })

    it("an element outside its limits", () => {
      assert.include(refused({ callbackNum: [fromHex(cb1), fromHex("000101")] }).detail, "4–19 octets")
      assert.include(refused({ callbackNumPresInd: [1, 256] }).detail, "0–255")
      assert.include(refused({ callbackNumAtag: [new Uint8Array(66)] }).detail, "0–65 octets")
      assert.isFalse(Schema.is(Pdu.SubmitSm)({ ...base, tlvs: { callbackNum: [fromHex("000101")] } }))
    })
  })

  describe("PduJson", () => {
    const pdu = decodeOk(frame("deliver_sm", SEQ, smBody, interleaved))

    it("writes the lists as JSON arrays and reads them back", () => {
      const json = PduJson.toJson(pdu)
      assert.deepStrictEqual(json.tlvs, {
        callbackNum: [cb1, cb2, cb3],
        callbackNumPresInd: [1, 3],
        "0x1400": "cafe",
        callbackNumAtag: [atag1, atag2],
        userMessageReference: 7
      })
      const back = Either.getOrThrow(PduJson.fromJson(JSON.parse(JSON.stringify(json))))
      assert.deepStrictEqual(back, pdu)
      assert.deepStrictEqual(Object.keys(tlvsOf(back)), Object.keys(tlvsOf(pdu)))
      assert.strictEqual(toHex(Codec.encode(back)), toHex(Codec.encode(pdu)))
      const schema = Schema.parseJson(PduJson.PduJson)
      assert.deepStrictEqual(Schema.decodeSync(schema)(Schema.encodeSync(schema)(pdu)), pdu)
    })

    it("reads a lone value as a list of one", () => {
      const read = Either.getOrThrow(
        PduJson.fromJson({
          command: "submit_sm",
          tlvs: { callbackNum: cb1, callbackNumPresInd: 1, callbackNumAtag: atag1 }
        })
      )
      assert.deepStrictEqual(hexList(tlvsOf(read).callbackNum), [cb1])
      assert.deepStrictEqual(tlvsOf(read).callbackNumPresInd, [1])
      assert.deepStrictEqual(hexList(tlvsOf(read).callbackNumAtag), [atag1])
    })

    it.each([
      [{ callbackNum: [cb1, "01"] }, "InvalidValue", "tlvs.callbackNum[1]", "4–19 octets"],
      [{ callbackNum: [cb1, "0"] }, "InvalidHex", "tlvs.callbackNum[1]", "even"],
      [{ callbackNumAtag: [7] }, "InvalidValue", "tlvs.callbackNumAtag[0]", "hex string"],
      [{ callbackNumPresInd: [1, 256] }, "InvalidValue", "tlvs.callbackNumPresInd[1]", "255"],
      [{ callbackNum: [] }, "InvalidValue", "tlvs.callbackNum", "at least 1"]
    ] as const)("refuses %j", (tlvs, reason, field, detail) => {
      const result = PduJson.fromJson({ command: "submit_sm", tlvs })
      if (Either.isRight(result)) return assert.fail("read")
      assert.strictEqual(result.left.reason, reason)
      assert.strictEqual(result.left.field, field)
      assert.include(result.left.detail, detail)
    })
  })

  describe("with node-smpp", () => {
    it("node-smpp reads our repeats as its lists, in order", () => {
      const bytes = Codec.encode(decodeOk(frame("deliver_sm", SEQ, smBody, interleaved)))
      const theirs = smpp.PDU.fromBuffer(Buffer.from(bytes))
      if (theirs === false) return assert.fail("node-smpp did not read the PDU")
      type CallbackNumber = { digit_mode: number; ton: number; npi: number; number: string }
      const numbers = theirs.callback_num as ReadonlyArray<CallbackNumber>
      assert.deepStrictEqual(numbers.map((n) => [n.digit_mode, n.ton, n.npi, n.number]), [
        [0, 1, 1, "4477001"],
        [1, 1, 1, "4477002"],
        [0, 0, 0, "112"]
      ])
      assert.deepStrictEqual(theirs.callback_num_pres_ind, [1, 3])
      const atags = theirs.callback_num_atag as ReadonlyArray<{ encoding: number; display: Buffer }>
      assert.deepStrictEqual(atags.map((a) => [a.encoding, a.display.toString("latin1")]), [
        [0, "Office"],
        [0, "Mobile"]
      ])
    })
  })
})
