/**
 * Octets that are not a valid SMPP 3.4 PDU, and values that cannot be written as one:
 * decoding answers a typed DecodeError (never throws) carrying the command_status to
 * answer with; encoding answers a typed EncodeError.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Codec from "../src/Codec.js"
import { CommandId } from "../src/CommandId.js"
import { CommandStatus as S } from "../src/CommandStatus.js"
import { type DecodeError, type DecodeErrorReason, EncodeError } from "../src/DecodeError.js"
import * as Pdu from "../src/Pdu.js"
import * as NodeSmpp from "./fixtures/nodeSmpp.js"
import * as Spec from "./fixtures/spec.js"
import { cstr, frame, fromHex, text, tlv, toHex, u32 } from "./fixtures/hex.js"

const SEQ = 0x2a

// The mandatory fields of a few PDUs as hex, in wire order; a test overrides one of them.
const submitSmFields = {
  serviceType: "00",
  sourceAddrTon: "01",
  sourceAddrNpi: "01",
  sourceAddr: cstr("447700900000"),
  destAddrTon: "01",
  destAddrNpi: "01",
  destinationAddr: cstr("447700900123"),
  esmClass: "00",
  protocolId: "00",
  priorityFlag: "00",
  scheduleDeliveryTime: "00",
  validityPeriod: "00",
  registeredDelivery: "00",
  replaceIfPresentFlag: "00",
  dataCoding: "00",
  smDefaultMsgId: "00",
  shortMessage: "02" + text("hi"),
  tlvs: ""
}
const submitSm = (fields: Partial<typeof submitSmFields>) =>
  frame("submit_sm", SEQ, ...Object.values({ ...submitSmFields, ...fields }))

const bindFields = {
  systemId: cstr("esme"),
  password: cstr("pw"),
  systemType: cstr(""),
  interfaceVersion: "34",
  addrTon: "00",
  addrNpi: "00",
  addressRange: cstr("")
}
const bindTransmitter = (fields: Partial<typeof bindFields>) =>
  frame("bind_transmitter", SEQ, ...Object.values({ ...bindFields, ...fields }))

const submitMultiFields = {
  serviceType: "00",
  sourceAddrTon: "00",
  sourceAddrNpi: "00",
  sourceAddr: cstr(""),
  destAddresses: "01" + "01" + "01" + "01" + cstr("4477"),
  rest: "00".repeat(9) + "00" // esm_class … sm_default_msg_id, then sm_length 0
}
const submitMulti = (fields: Partial<typeof submitMultiFields>) =>
  frame("submit_multi", SEQ, ...Object.values({ ...submitMultiFields, ...fields }))

const decodeError = (bytes: Uint8Array, options?: Codec.DecodeOptions): DecodeError => {
  const result = Codec.decode(bytes, options)
  if (Either.isRight(result)) return assert.fail(`${toHex(bytes)} decoded to ${result.right._tag}`)
  return result.left
}

interface Expected {
  readonly reason: DecodeErrorReason
  readonly status: number
  readonly field?: string | undefined
}

/** The error's reason, status and field, and the header it could read. */
const assertError = (bytes: Uint8Array, expected: Expected, options?: Codec.DecodeOptions): DecodeError => {
  const error = decodeError(bytes, options)
  assert.deepStrictEqual(
    { reason: error.reason, status: error.status, field: error.field },
    { reason: expected.reason, status: expected.status, field: expected.field },
    error.message
  )
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  assert.strictEqual(error.commandId, bytes.length >= 8 ? view.getUint32(4) : undefined, "commandId")
  assert.strictEqual(error.sequenceNumber, bytes.length >= 16 ? view.getUint32(12) : undefined, "sequenceNumber")
  return error
}

const field = (status: number, name: string): Expected => ({ reason: "InvalidField", status, field: name })
const badTlv = (status: number, name: string | undefined): Expected => ({ reason: "InvalidTlv", status, field: name })
const badLength: Expected = { reason: "InvalidCommandLength", status: S.ESME_RINVCMDLEN }

const goldens: ReadonlyArray<{ readonly name: string; readonly hex: string }> = [
  ...NodeSmpp.goldens,
  ...NodeSmpp.refused,
  ...Spec.goldens
]

describe("Codec on malformed input", () => {
  describe("truncations", () => {
    it("refuses every golden PDU cut at every length with ESME_RINVCMDLEN", () => {
      let cuts = 0
      for (const golden of goldens) {
        const bytes = fromHex(golden.hex)
        for (let n = 0; n < bytes.length; n++) {
          const error = assertError(bytes.subarray(0, n), badLength)
          assert.include(error.detail, n < 4 ? "fewer than 4 octets" : `but ${n} octets given`, golden.name)
          cuts++
        }
      }
      assert.isAbove(cuts, 3000)
    })

    it("answers every golden cut short with command_length to match: an error, or a PDU that re-encodes exactly", () => {
      const statuses = new Set<number>([
        S.ESME_RINVCMDLEN,
        S.ESME_RINVMSGLEN,
        S.ESME_RINVOPTPARSTREAM,
        S.ESME_RINVSRCADR,
        S.ESME_RINVDSTADR,
        S.ESME_RINVMSGID,
        S.ESME_RINVSYSID,
        S.ESME_RINVPASWD,
        S.ESME_RINVSYSTYP,
        S.ESME_RINVSERTYP,
        S.ESME_RINVSCHED,
        S.ESME_RINVEXPIRY,
        S.ESME_RINVPARLEN,
        S.ESME_RINVDLNAME,
        S.ESME_RINVNUMDESTS
      ])
      let decoded = 0
      for (const golden of goldens) {
        const whole = fromHex(golden.hex)
        for (let n = 16; n < whole.length; n++) {
          const bytes = whole.slice(0, n)
          new DataView(bytes.buffer).setUint32(0, n)
          const result = Codec.decode(bytes)
          if (Either.isRight(result)) {
            // Cut where a trailing field or a TLV begins: a shorter valid PDU.
            decoded++
            assert.strictEqual(toHex(Codec.encode(result.right)), toHex(bytes), golden.name)
          } else {
            assert.isTrue(statuses.has(result.left.status), `${golden.name} at ${n}: ${result.left.message}`)
            assert.strictEqual(result.left.sequenceNumber, new DataView(bytes.buffer).getUint32(12))
          }
        }
      }
      assert.isAbove(decoded, 0)
    })
  })

  describe("command_length", () => {
    const enquireLink = Codec.encode(Pdu.EnquireLink.make({ sequenceNumber: SEQ }))
    const withLength = (bytes: Uint8Array, length: number) => {
      const copy = bytes.slice()
      new DataView(copy.buffer).setUint32(0, length)
      return copy
    }

    it("refuses fewer than 4 octets, reading nothing", () => {
      for (const n of [0, 1, 3]) {
        const error = assertError(new Uint8Array(n), badLength)
        assert.strictEqual(error.detail, "fewer than 4 octets")
      }
    })

    it("refuses a command_length below 16", () => {
      for (const length of [0, 4, 8, 15]) {
        assert.include(assertError(withLength(enquireLink, length), badLength).detail, `${length} is below 16`)
      }
      // Only the first 15 octets: the sequence number cannot be read.
      assertError(withLength(enquireLink, 15).subarray(0, 15), badLength)
    })

    it("refuses a command_length above the octets given, and below them", () => {
      assert.include(assertError(withLength(enquireLink, 17), badLength).detail, "command_length 17 but 16 octets given")
      const longer = new Uint8Array(20)
      longer.set(enquireLink)
      assert.include(assertError(longer, badLength).detail, "command_length 16 but 20 octets given")
    })

    it("refuses a command_length above the configured maximum", () => {
      const bytes = fromHex(Spec.goldens.find((g) => g.pdu._tag === "submit_sm")!.hex)
      assert.include(
        assertError(bytes, badLength, { maxLength: bytes.length - 1 }).detail,
        `above the maximum ${bytes.length - 1}`
      )
      assert.isTrue(Either.isRight(Codec.decode(bytes, { maxLength: bytes.length })))
    })

    it("refuses a command_length above the default maximum of 64 KiB", () => {
      const big = new Uint8Array(Codec.DEFAULT_MAX_LENGTH + 1)
      big.set(enquireLink)
      new DataView(big.buffer).setUint32(0, big.length)
      assert.include(assertError(big, badLength).detail, "above the maximum 65536")
    })

    it("refuses a body on a PDU that has none", () => {
      for (const command of ["enquire_link", "unbind_resp", "generic_nack", "cancel_sm_resp"] as const) {
        const error = assertError(frame(command, SEQ, "00"), badLength)
        assert.include(error.detail, `${command} has no body`)
      }
      assertError(frame("replace_sm_resp", SEQ, tlv(0x001d, cstr("x"))), badLength)
    })
  })

  describe("command_id", () => {
    it("refuses a command_id SMPP 3.4 does not define with ESME_RINVCMDID and the sequence number", () => {
      // 0x0a is reserved; 0x111 / 0x80000111 are SMPP 5.0's broadcast_sm; 0x80000102 has no request.
      for (const id of [0x00000000, 0x0000000a, 0x00000111, 0x80000111, 0x80000102, 0x0000ffff, 0xffffffff]) {
        const bytes = fromHex(u32(16) + u32(id) + u32(0) + u32(0x7fffffff))
        const error = assertError(bytes, { reason: "UnknownCommandId", status: S.ESME_RINVCMDID })
        assert.strictEqual(error.commandId, id)
        assert.strictEqual(error.sequenceNumber, 0x7fffffff)
        assert.include(error.detail, `0x${u32(id)}`)
      }
    })
  })

  describe("mandatory fields", () => {
    const cases: ReadonlyArray<readonly [string, Uint8Array, Expected, string?]> = [
      [
        "source_addr over 20 characters",
        submitSm({ sourceAddr: cstr("1".repeat(21)) }),
        field(S.ESME_RINVSRCADR, "sourceAddr"),
        "longer than 20"
      ],
      [
        "destination_addr over 20 characters",
        submitSm({ destinationAddr: cstr("1".repeat(21)) }),
        field(S.ESME_RINVDSTADR, "destinationAddr"),
        "longer than 20"
      ],
      [
        "destination_addr without its NUL at the end of the PDU",
        frame("submit_sm", SEQ, "00", "01", "01", cstr("4477"), "01", "01", text("4478")),
        field(S.ESME_RINVDSTADR, "destinationAddr"),
        "without its NUL"
      ],
      ["service_type over 5 characters", submitSm({ serviceType: cstr("CMTXYZ") }), field(S.ESME_RINVSERTYP, "serviceType")],
      [
        "schedule_delivery_time of 10 characters",
        submitSm({ scheduleDeliveryTime: cstr("2401020304") }),
        field(S.ESME_RINVSCHED, "scheduleDeliveryTime"),
        "must be 0 or 16 characters"
      ],
      [
        "validity_period of 15 characters",
        submitSm({ validityPeriod: cstr("240102030405000") }),
        field(S.ESME_RINVEXPIRY, "validityPeriod"),
        "must be 0 or 16 characters"
      ],
      [
        "validity_period of 17 characters",
        submitSm({ validityPeriod: cstr("2401020304050000+") }),
        field(S.ESME_RINVEXPIRY, "validityPeriod")
      ],
      [
        "system_id over 15 characters",
        bindTransmitter({ systemId: cstr("S".repeat(16)) }),
        field(S.ESME_RINVSYSID, "systemId")
      ],
      [
        "system_id without its NUL at the end of the PDU",
        frame("bind_transmitter", SEQ, text("esme")),
        field(S.ESME_RINVSYSID, "systemId"),
        "without its NUL"
      ],
      ["password over 8 characters", bindTransmitter({ password: cstr("p".repeat(9)) }), field(S.ESME_RINVPASWD, "password")],
      [
        "system_type over 12 characters",
        bindTransmitter({ systemType: cstr("t".repeat(13)) }),
        field(S.ESME_RINVSYSTYP, "systemType")
      ],
      [
        "message_id of query_sm over 64 characters",
        frame("query_sm", SEQ, cstr("m".repeat(65)), "00", "00", cstr("")),
        field(S.ESME_RINVMSGID, "messageId")
      ],
      [
        "message_id of submit_sm_resp without its NUL",
        frame("submit_sm_resp", SEQ, text("abc")),
        field(S.ESME_RINVMSGID, "messageId"),
        "without its NUL"
      ],
      [
        "message_id of cancel_sm over 64 characters",
        frame("cancel_sm", SEQ, cstr(""), cstr("m".repeat(70)), "00", "00", cstr(""), "00", "00", cstr("")),
        field(S.ESME_RINVMSGID, "messageId")
      ],
      [
        "source_addr of data_sm over 64 characters",
        frame("data_sm", SEQ, cstr(""), "00", "00", cstr("1".repeat(65)), "00", "00", cstr("1"), "00", "00", "00"),
        field(S.ESME_RINVSRCADR, "sourceAddr")
      ],
      [
        "final_date of query_sm_resp of 5 characters",
        frame("query_sm_resp", SEQ, cstr("42"), cstr("24010"), "02", "00"),
        field(S.ESME_RINVPARLEN, "finalDate")
      ],
      [
        "dl_name over 20 characters",
        submitMulti({ destAddresses: "01" + "02" + cstr("d".repeat(21)) }),
        field(S.ESME_RINVDLNAME, "dlName")
      ],
      [
        "a dest_address destination_addr over 20 characters",
        submitMulti({ destAddresses: "01" + "01" + "01" + "01" + cstr("1".repeat(21)) }),
        field(S.ESME_RINVDSTADR, "destinationAddr")
      ],
      ["number_of_dests 0", submitMulti({ destAddresses: "00" }), field(S.ESME_RINVNUMDESTS, "numberOfDests")],
      [
        "number_of_dests 255",
        submitMulti({ destAddresses: "ff" + ("02" + cstr("d")).repeat(255) }),
        field(S.ESME_RINVNUMDESTS, "numberOfDests")
      ],
      [
        "dest_flag 3",
        submitMulti({ destAddresses: "02" + "01" + "01" + "01" + cstr("4477") + "03" + "01" + "01" + cstr("4478") }),
        field(S.ESME_RINVDESTFLAG, "destFlag"),
        "dest_flag 3"
      ],
      [
        "an unsuccess_sme destination_addr without its NUL",
        frame("submit_multi_resp", SEQ, cstr("m"), "01", "01", "01", text("4477")),
        field(S.ESME_RINVDSTADR, "destinationAddr")
      ],
      [
        "esme_addr of alert_notification over 64 characters",
        frame("alert_notification", SEQ, "00", "00", cstr("1"), "00", "00", cstr("e".repeat(65))),
        field(S.ESME_RINVSRCADR, "esmeAddr")
      ],
      [
        "sm_length past the end",
        submitSm({ shortMessage: "05" + text("hi") }),
        field(S.ESME_RINVMSGLEN, "smLength"),
        "past the end"
      ],
      [
        "sm_length 255",
        submitSm({ shortMessage: "ff" + "00".repeat(255) }),
        field(S.ESME_RINVMSGLEN, "smLength"),
        "above 254"
      ],
      [
        "a submit_sm ending before dest_addr_ton",
        frame("submit_sm", SEQ, "00", "01", "01", cstr("4477")),
        { reason: "InvalidCommandLength", status: S.ESME_RINVCMDLEN, field: "destAddrTon" }
      ]
    ]

    for (const [name, bytes, expected, detail] of cases) {
      it(`refuses ${name}`, () => {
        const error = assertError(bytes, expected)
        assert.strictEqual(error.sequenceNumber, SEQ)
        if (detail !== undefined) assert.include(error.detail, detail)
      })
    }

    it("accepts the same PDUs at the limits", () => {
      for (
        const bytes of [
          submitSm({ sourceAddr: cstr("1".repeat(20)), destinationAddr: cstr("2".repeat(20)), serviceType: cstr("CMTXY") }),
          submitSm({ scheduleDeliveryTime: cstr("240102030405000+"), validityPeriod: cstr("000001000000000R") }),
          submitSm({ shortMessage: "fe" + "00".repeat(254) }),
          bindTransmitter({
            systemId: cstr("S".repeat(15)),
            password: cstr("p".repeat(8)),
            systemType: cstr("t".repeat(12))
          }),
          submitMulti({ destAddresses: "fe" + ("02" + cstr("d".repeat(20))).repeat(254) }),
          frame("data_sm", SEQ, cstr(""), "00", "00", cstr("1".repeat(64)), "00", "00", cstr("1"), "00", "00", "00")
        ]
      ) {
        const result = Codec.decode(bytes)
        assert.isTrue(Either.isRight(result), Either.isLeft(result) ? result.left.message : "")
        assert.strictEqual(toHex(Codec.encode(Either.getOrThrow(result))), toHex(bytes))
      }
    })
  })

  describe("TLVs", () => {
    const cases: ReadonlyArray<readonly [string, string, Expected]> = [
      ["a TLV whose length runs past the end", tlv(0x020c, "0001", 4), badTlv(S.ESME_RINVOPTPARSTREAM, "sarMsgRefNum")],
      ["an unknown TLV whose length runs past the end", tlv(0x1400, "abcd", 10), badTlv(S.ESME_RINVOPTPARSTREAM, "0x1400")],
      ["a TLV header cut short", "020c00", badTlv(S.ESME_RINVOPTPARSTREAM, undefined)],
      ["the same TLV twice", tlv(0x020c, "0001") + tlv(0x020c, "0002"), badTlv(S.ESME_RINVOPTPARSTREAM, "sarMsgRefNum")],
      ["the same unknown TLV twice", tlv(0x1400, "") + tlv(0x1400, ""), badTlv(S.ESME_RINVOPTPARSTREAM, "0x1400")],
      ["sar_msg_ref_num of 1 octet", tlv(0x020c, "01"), badTlv(S.ESME_RINVPARLEN, "sarMsgRefNum")],
      ["message_state of 2 octets", tlv(0x0427, "0002"), badTlv(S.ESME_RINVPARLEN, "messageState")],
      ["qos_time_to_live of 2 octets", tlv(0x0017, "0002"), badTlv(S.ESME_RINVPARLEN, "qosTimeToLive")],
      ["alert_on_message_delivery with a value", tlv(0x130c, "01"), badTlv(S.ESME_RINVPARLEN, "alertOnMessageDelivery")],
      ["network_error_code of 2 octets", tlv(0x0423, "0300"), badTlv(S.ESME_RINVPARLEN, "networkErrorCode")],
      ["dest_subaddress of 1 octet", tlv(0x0203, "a0"), badTlv(S.ESME_RINVPARLEN, "destSubaddress")],
      ["dest_subaddress of 24 octets", tlv(0x0203, "a0".repeat(24)), badTlv(S.ESME_RINVPARLEN, "destSubaddress")],
      ["callback_num of 3 octets", tlv(0x0381, "000101"), badTlv(S.ESME_RINVPARLEN, "callbackNum")],
      [
        "receipted_message_id of 66 octets",
        tlv(0x001e, cstr("r".repeat(65))),
        badTlv(S.ESME_RINVPARLEN, "receiptedMessageId")
      ],
      [
        "receipted_message_id of 65 characters without its NUL",
        tlv(0x001e, text("r".repeat(65))),
        badTlv(S.ESME_RINVPARLEN, "receiptedMessageId")
      ],
      [
        "a NUL inside receipted_message_id",
        tlv(0x001e, cstr("ab") + text("c") + "00"),
        badTlv(S.ESME_RINVOPTPARAMVAL, "receiptedMessageId")
      ],
      ["message_payload with short_message", tlv(0x0424, text("payload")), badTlv(S.ESME_ROPTPARNOTALLWD, "messagePayload")]
    ]

    it.each(cases)("refuses %s", (_, tlvs, expected) => {
      assert.strictEqual(assertError(submitSm({ tlvs }), expected).sequenceNumber, SEQ)
    })

    it("accepts message_payload with an empty short_message, and TLVs at their limits", () => {
      const bytes = submitSm({
        shortMessage: "00",
        tlvs: tlv(0x0424, "") + tlv(0x0203, "a0".repeat(23)) + tlv(0x001e, cstr("r".repeat(64))) + tlv(0x130c, "")
      })
      const pdu = Either.getOrThrow(Codec.decode(bytes)) as Pdu.SubmitSm
      assert.deepStrictEqual(Object.keys(pdu.tlvs), [
        "messagePayload",
        "destSubaddress",
        "receiptedMessageId",
        "alertOnMessageDelivery"
      ])
      assert.strictEqual(toHex(Codec.encode(pdu)), toHex(bytes))
    })

    it("tolerates a C-Octet String TLV sent without its NUL, and writes the NUL back", () => {
      for (const value of ["abc", "r".repeat(64), ""]) {
        const pdu = Either.getOrThrow(Codec.decode(submitSm({ tlvs: tlv(0x001e, text(value)) }))) as Pdu.SubmitSm
        assert.strictEqual(pdu.tlvs.receiptedMessageId, value)
        assert.strictEqual(toHex(Codec.encode(pdu)), toHex(submitSm({ tlvs: tlv(0x001e, cstr(value)) })))
      }
    })
  })

  describe("random octets", () => {
    const decodeNeverThrows = (bytes: Uint8Array): Either.Either<Pdu.Pdu, DecodeError> => {
      let result: Either.Either<Pdu.Pdu, DecodeError>
      try {
        result = Codec.decode(bytes)
      } catch (e) {
        return assert.fail(`decode threw on ${toHex(bytes)}: ${String(e)}`)
      }
      // ESME_RSYSERR is what decode answers when something other than a check failed inside.
      if (Either.isLeft(result)) assert.notStrictEqual(result.left.status, S.ESME_RSYSERR, result.left.message)
      return result
    }

    it("never throws on random octets", () => {
      FastCheck.assert(
        FastCheck.property(FastCheck.uint8Array({ maxLength: 64 }), (bytes) => {
          const result = decodeNeverThrows(bytes)
          assert.isTrue(Either.isLeft(result) || bytes.length >= 16)
        }),
        { numRuns: 2000 }
      )
    })

    it("never throws on random bodies behind a valid header; what it accepts re-encodes byte for byte", () => {
      const isPdu = Schema.is(Pdu.Pdu)
      const ids = Object.values(CommandId)
      FastCheck.assert(
        FastCheck.property(
          FastCheck.constantFrom(...ids),
          FastCheck.integer({ min: 0, max: 0xffffffff }),
          FastCheck.uint8Array({ maxLength: 96 }),
          (commandId, sequenceNumber, body) => {
            const bytes = new Uint8Array(16 + body.length)
            const view = new DataView(bytes.buffer)
            view.setUint32(0, bytes.length)
            view.setUint32(4, commandId)
            view.setUint32(12, sequenceNumber)
            bytes.set(body, 16)
            const result = decodeNeverThrows(bytes)
            if (Either.isLeft(result)) {
              assert.strictEqual(result.left.sequenceNumber, sequenceNumber)
              assert.strictEqual(result.left.commandId, commandId)
            } else {
              assert.isTrue(isPdu(result.right), "what decodes satisfies the Schema")
              const tlvs = (result.right as { readonly tlvs?: Record<string, unknown> }).tlvs ?? {}
              // The one tolerated liberty: a C-Octet String TLV without its NUL gets it back.
              if (tlvs.receiptedMessageId === undefined && tlvs.additionalStatusInfoText === undefined) {
                assert.strictEqual(toHex(Codec.encode(result.right)), toHex(bytes))
              }
            }
          }
        ),
        { numRuns: 5000 }
      )
    })
  })

  describe("PduFromBytes", () => {
    const decode = Schema.decodeUnknownEither(Codec.PduFromBytes)

    it("fails with the DecodeError's message for malformed octets", () => {
      const result = decode(submitSm({ tlvs: tlv(0x020c, "01") }))
      if (Either.isRight(result)) return assert.fail("decoded")
      assert.include(result.left.message, "InvalidTlv (sarMsgRefNum)")
    })

    it("fails for a value that is not octets", () => {
      for (const input of ["0000001000000015", [0, 0, 0, 16], null]) {
        assert.isTrue(Either.isLeft(decode(input)))
      }
    })

    it("refuses to encode a PDU outside its Schema", () => {
      const result = Schema.encodeEither(Codec.PduFromBytes)(
        Pdu.SubmitSm.make({ sourceAddr: "1".repeat(21) }, true)
      )
      assert.isTrue(Either.isLeft(result))
    })
  })
})

describe("Codec.encodeEither on values outside the limits", () => {
  const cases: ReadonlyArray<readonly [string, Pdu.Pdu, string]> = [
    ["source_addr over 20 characters", Pdu.SubmitSm.make({ sourceAddr: "1".repeat(21) }, true), "sourceAddr"],
    ["system_id over 15 characters", Pdu.BindTransceiver.make({ systemId: "S".repeat(16) }, true), "systemId"],
    ["password over 8 characters", Pdu.Outbind.make({ password: "p".repeat(9) }, true), "password"],
    ["message_id over 64 characters", Pdu.SubmitSmResp.make({ messageId: "m".repeat(65) }, true), "messageId"],
    ["a character outside Latin-1", Pdu.SubmitSm.make({ destinationAddr: "44☃" }, true), "destinationAddr"],
    ["an emoji (a surrogate pair)", Pdu.BindTransmitter.make({ systemType: "😀" }, true), "systemType"],
    ["a NUL inside a C-Octet String", Pdu.QuerySm.make({ messageId: "a\u0000b" }, true), "messageId"],
    ["a time of 10 characters", Pdu.SubmitSm.make({ scheduleDeliveryTime: "2401020304" }, true), "scheduleDeliveryTime"],
    ["a u8 above 255", Pdu.SubmitSm.make({ destAddrTon: 256 }, true), "destAddrTon"],
    ["a negative u8", Pdu.DeliverSm.make({ esmClass: -1 }, true), "esmClass"],
    ["a fractional u8", Pdu.SubmitSm.make({ dataCoding: 1.5 }, true), "dataCoding"],
    ["a command_status of 2^32", Pdu.EnquireLink.make({ commandStatus: 2 ** 32 }, true), "commandStatus"],
    ["a negative sequence_number", Pdu.SubmitSmResp.make({ sequenceNumber: -1 }, true), "sequenceNumber"],
    ["a NaN sequence_number", Pdu.Unbind.make({ sequenceNumber: NaN }, true), "sequenceNumber"],
    ["a short_message of 255 octets", Pdu.SubmitSm.make({ shortMessage: new Uint8Array(255) }, true), "shortMessage"],
    ["a u16 TLV above 65535", Pdu.SubmitSm.make({ tlvs: { sarMsgRefNum: 65536 } }, true), "sarMsgRefNum"],
    ["a u32 TLV above 2^32 - 1", Pdu.DataSm.make({ tlvs: { qosTimeToLive: 2 ** 32 } }, true), "qosTimeToLive"],
    [
      "a network_error_code above 65535",
      Pdu.DeliverSm.make({ tlvs: { networkErrorCode: { networkType: 1, errorCode: 70000 } } }, true),
      "networkErrorCode"
    ],
    [
      "a receipted_message_id over 64 characters",
      Pdu.DeliverSm.make({ tlvs: { receiptedMessageId: "r".repeat(65) } }, true),
      "receiptedMessageId"
    ],
    [
      "a dest_subaddress of 1 octet",
      Pdu.SubmitSm.make({ tlvs: { destSubaddress: new Uint8Array(1) } }, true),
      "destSubaddress"
    ],
    [
      "a message_payload of 65536 octets",
      Pdu.DataSm.make({ tlvs: { messagePayload: new Uint8Array(65536) } }, true),
      "messagePayload"
    ],
    ["an unknown TLV of 65536 octets", Pdu.DataSm.make({ tlvs: { "0x1400": new Uint8Array(65536) } }, true), "0x1400"],
    ["a TLV key that is neither a name nor a tag", Pdu.DataSm.make({ tlvs: { foo: 1 } as never }, true), "foo"],
    ["no destination in submit_multi", Pdu.SubmitMulti.make({ destAddresses: [] as never }, true), "destAddresses"],
    [
      "255 destinations in submit_multi",
      Pdu.SubmitMulti.make({ destAddresses: Array(255).fill({ destFlag: 2, dlName: "d" }) as never }, true),
      "destAddresses"
    ],
    [
      "dest_flag 3",
      Pdu.SubmitMulti.make({ destAddresses: [{ destFlag: 3 } as never] }, true),
      "destFlag"
    ],
    [
      "a dl_name over 20 characters",
      Pdu.SubmitMulti.make({ destAddresses: [{ destFlag: 2, dlName: "d".repeat(21) }] }, true),
      "dlName"
    ],
    [
      "256 unsuccessful destinations",
      Pdu.SubmitMultiResp.make({
        messageId: "m",
        unsuccessSmes: Array(256).fill({ destAddrTon: 0, destAddrNpi: 0, destinationAddr: "", errorStatusCode: 0 })
      }, true),
      "unsuccessSmes"
    ],
    [
      "an error_status_code above 2^32 - 1",
      Pdu.SubmitMultiResp.make({
        messageId: "m",
        unsuccessSmes: [{ destAddrTon: 0, destAddrNpi: 0, destinationAddr: "", errorStatusCode: 2 ** 32 }]
      }, true),
      "errorStatusCode"
    ],
    [
      "short_message with message_payload",
      Pdu.SubmitSm.make({ shortMessage: new Uint8Array(1), tlvs: { messagePayload: new Uint8Array(1) } }),
      "messagePayload"
    ],
    ["a standard tag under an unknown key", Pdu.SubmitSm.make({ tlvs: { "0x0204": new Uint8Array(2) } }), "0x0204"],
    [
      "a trailing field after an absent one",
      Pdu.SubmitMultiResp.make({ unsuccessSmes: [] }),
      "unsuccessSmes"
    ],
    ["TLVs after an absent trailing field", Pdu.SubmitSmResp.make({ tlvs: { sarMsgRefNum: 1 } }), "tlvs"]
  ]

  it.each(cases)("refuses %s", (_, pdu, fieldName) => {
    const result = Codec.encodeEither(pdu)
    if (Either.isRight(result)) return assert.fail(`encoded to ${toHex(result.right)}`)
    assert.instanceOf(result.left, EncodeError)
    assert.strictEqual(result.left.command, pdu._tag)
    assert.strictEqual(result.left.field, fieldName)
    assert.strictEqual(result.left.message, `${pdu._tag}.${fieldName}: ${result.left.detail}`)
    assert.throws(() => Codec.encode(pdu), EncodeError)
  })

  it("leaves a writer as it was when a PDU is refused", () => {
    const writer = new Codec.Writer(16)
    Codec.encodeInto(writer, Pdu.EnquireLink.make({ sequenceNumber: 1 }))
    assert.throws(() => Codec.encodeInto(writer, Pdu.SubmitSm.make({ sourceAddr: "1".repeat(40) }, true)), EncodeError)
    assert.strictEqual(writer.pos, 16)
    Codec.encodeInto(writer, Pdu.EnquireLinkResp.make({ sequenceNumber: 1 }))
    assert.strictEqual(
      toHex(writer.take()),
      "00000010000000150000000000000001" + "00000010800000150000000000000001"
    )
  })
})
