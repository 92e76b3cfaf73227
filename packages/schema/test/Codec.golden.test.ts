/**
 * Golden PDUs: octets written by an independent implementation (node-smpp 0.5.1) and by
 * hand from the SMPP 3.4 layouts. Both directions are checked against node-smpp field by
 * field: its octets decoded by us, and our octets decoded by it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import smpp, { type PDU as NodePdu } from "smpp"
import * as Codec from "../src/Codec.js"
import { CommandId, type CommandName, commandNames } from "../src/CommandId.js"
import * as Gsm7 from "../src/Gsm7.js"
import type * as Pdu from "../src/Pdu.js"
import * as SmppTime from "../src/SmppTime.js"
import * as Tlv from "../src/Tlv.js"
import { fromHex, toHex } from "./fixtures/hex.js"
import * as NodeSmpp from "./fixtures/nodeSmpp.js"
import * as Spec from "./fixtures/spec.js"

const decodeOk = (bytes: Uint8Array): Pdu.Pdu => {
  const result = Codec.decode(bytes)
  if (Either.isLeft(result)) return assert.fail(`${toHex(bytes)}: ${result.left.message}`)
  return result.right
}

type Fields = Record<string, unknown>

// ---------------------------------------------------------------------------------------
// Our PDU as node-smpp sees it
// ---------------------------------------------------------------------------------------

const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** node-smpp's names where they are not the specification's name in snake_case. */
const nodeNames: Record<string, string> = {
  destAddresses: "dest_address", // the spec's dest_address entries, number_of_dests implied
  unsuccessSmes: "unsuccess_sme", // likewise with no_unsuccess
  destinationPort: "dest_port"
}
const nodeName = (name: string): string => nodeNames[name] ?? snakeCase(name)

/** TLVs kept as a list by node-smpp and by us, since SMPP 3.4 lets them appear more than once. */
const multiple = new Set(["callbackNum", "callbackNumAtag", "callbackNumPresInd"])

const timeFields = new Set(["scheduleDeliveryTime", "validityPeriod", "finalDate"])

/** Octets as compared: node-smpp's Buffers and our Uint8Array views alike. */
const octets = (bytes: Uint8Array) => ({ hex: toHex(bytes) })

const u16 = (n: number) => Uint8Array.of(n >>> 8, n & 0xff)

/** A relative time node-smpp turns into a Date from the current clock. */
class RelativeTime {
  constructor(readonly time: SmppTime.Relative) {}
}

/** node-smpp decodes C-Octet Strings as Node's "ascii", which clears the high bit of each octet. */
const nodeAscii = (s: string): string => s.replace(/[\x80-\xff]/g, (c) => String.fromCharCode(c.charCodeAt(0) & 0x7f))

const nodeTime = (s: string): unknown => {
  if (s === "") return ""
  const time = Either.getOrThrow(SmppTime.parse(s))
  return time._tag === "Absolute" ? { date: new Date(SmppTime.toEpochMillis(time)).toISOString() } : new RelativeTime(time)
}

/** The text node-smpp makes of message octets: by data_coding's low nibble, else the octets. */
const nodeText = (bytes: Uint8Array, dataCoding: number): unknown => {
  switch (dataCoding & 0x0f) {
    case 0:
    case 1: // node-smpp reads IA5 (1) as GSM 03.38 too
      return Gsm7.decode(bytes)
    case 3:
      return Buffer.from(bytes).toString("latin1")
    case 8:
      return Buffer.from(bytes).swap16().toString("utf16le")
    default:
      return octets(bytes)
  }
}

/** short_message / message_payload as node-smpp's decoder gives them: `{ udh?, message }`. */
const nodeMessage = (bytes: Uint8Array, pdu: Fields, skipUdh: boolean): unknown => {
  if (!("dataCoding" in pdu)) return octets(bytes) // e.g. replace_sm: node-smpp leaves the octets
  const dataCoding = pdu.dataCoding as number
  if (((pdu.esmClass as number) & 0x40) !== 0 && bytes.length > 0 && !skipUdh) {
    const end = bytes[0] + 1
    const udh: Array<unknown> = []
    for (let i = 1; i < end; i += bytes[i + 1] + 2) udh.push(octets(bytes.subarray(i, i + bytes[i + 1] + 2)))
    return { udh, message: nodeText(bytes.subarray(end), dataCoding) }
  }
  return { message: nodeText(bytes, dataCoding) }
}

const tlvView = (name: string, value: unknown, pdu: Fields, decoded: boolean): unknown => {
  const def = (Tlv.definitions as Record<string, Tlv.TlvKind | undefined>)[name]
  if (def === undefined) return octets(value as Uint8Array) // unknown: node-smpp keys it by the tag in decimal
  switch (name) {
    case "networkErrorCode": { // node-smpp: 3 octets
      const { errorCode, networkType } = value as { networkType: number; errorCode: number }
      return octets(Uint8Array.of(networkType, ...u16(errorCode)))
    }
    case "msValidity": // node-smpp: an octet string
      return octets(Uint8Array.of(value as number))
    case "itsSessionInfo": // node-smpp: an octet string
      return octets(u16(value as number))
    case "messagePayload":
      // node-smpp looks for a UDH in message_payload only when short_message is empty
      return decoded
        ? nodeMessage(value as Uint8Array, pdu, ((pdu.shortMessage as Uint8Array | undefined)?.length ?? 0) > 0)
        : octets(value as Uint8Array)
    case "callbackNum":
      return (value as ReadonlyArray<Uint8Array>).map((b) =>
        decoded
          ? { digit_mode: b[0], ton: b[1], npi: b[2], number: nodeAscii(Buffer.from(b.subarray(3)).toString("latin1")) }
          : octets(b)
      )
    case "callbackNumAtag":
      return (value as ReadonlyArray<Uint8Array>).map((b) =>
        decoded ? { encoding: b[0], display: octets(b.subarray(1)) } : octets(b)
      )
  }
  if (multiple.has(name)) return value // a list on both sides
  if (value instanceof Uint8Array) return octets(value)
  if (typeof value === "string") return decoded ? nodeAscii(value) : value
  return value
}

/**
 * Our PDU in node-smpp's model, by node-smpp's field names: `decoded` false gives the
 * values a node-smpp PDU holds once it has written its octets, true the values its decoder
 * gives (times as Dates, messages decoded by data_coding, callback numbers taken apart).
 */
const nodeView = (pdu: Pdu.Pdu, decoded: boolean): Fields => {
  const fields = pdu as unknown as Fields
  const out: Fields = {}
  for (const [name, value] of Object.entries(fields)) {
    if (name === "_tag" || name === "commandStatus" || name === "sequenceNumber") continue
    if (name === "tlvs") {
      for (const [tlv, v] of Object.entries(value as Fields)) {
        const key = tlv.startsWith("0x") ? String(parseInt(tlv.slice(2), 16)) : nodeName(tlv)
        out[key] = tlvView(tlv, v, fields, decoded)
      }
    } else if (name === "shortMessage") {
      out.short_message = decoded ? nodeMessage(value as Uint8Array, fields, false) : octets(value as Uint8Array)
    } else if (name === "destAddresses") {
      out.dest_address = (value as ReadonlyArray<Pdu.DestAddress>).map((d) =>
        d.destFlag === 1
          ? { dest_addr_ton: d.destAddrTon, dest_addr_npi: d.destAddrNpi, destination_addr: d.destinationAddr }
          : { dl_name: d.dlName }
      )
    } else if (name === "unsuccessSmes") {
      out.unsuccess_sme = (value as ReadonlyArray<Pdu.UnsuccessSme>).map((s) => ({
        dest_addr_ton: s.destAddrTon,
        dest_addr_npi: s.destAddrNpi,
        destination_addr: s.destinationAddr,
        error_status_code: s.errorStatusCode
      }))
    } else if (timeFields.has(name)) {
      out[nodeName(name)] = decoded ? nodeTime(value as string) : value
    } else {
      out[nodeName(name)] = typeof value === "string" && decoded ? nodeAscii(value) : value
    }
  }
  return out
}

/** node-smpp's values with Buffers and Dates made comparable. */
const plain = (v: unknown): unknown =>
  v instanceof Uint8Array
    ? octets(v)
    : v instanceof Date
    ? { date: v.toISOString() }
    : Array.isArray(v)
    ? v.map(plain)
    : typeof v === "object" && v !== null
    ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
    : v

const header = new Set(["command", "command_length", "command_id", "command_status", "sequence_number"])

/**
 * Compares a node-smpp PDU with ours field by field: the header, then every field and TLV
 * by node-smpp's name, and no field on one side only. `skip` names fields node-smpp
 * is known to misread (asserted apart by the caller).
 */
const assertSameFields = (
  theirs: NodePdu,
  ours: Pdu.Pdu,
  length: number,
  decoded: boolean,
  skip: ReadonlyArray<string> = []
): void => {
  assert.strictEqual(theirs.command, ours._tag)
  assert.strictEqual(theirs.command_id, CommandId[ours._tag])
  assert.strictEqual(theirs.command_status, ours.commandStatus)
  assert.strictEqual(theirs.sequence_number, ours.sequenceNumber)
  assert.strictEqual(theirs.command_length, length)
  const expected = nodeView(ours, decoded)
  const theirFields = Object.keys(theirs).filter((k) => !header.has(k) && !skip.includes(k))
  assert.sameMembers(theirFields, Object.keys(expected).filter((k) => !skip.includes(k)), "the same fields")
  for (const key of theirFields) {
    const want = expected[key]
    if (want instanceof RelativeTime) {
      // node-smpp adds the relative time to the local calendar now; allow for the clock
      // moving on, a daylight-saving change, and its months overflowing (Jan 31 + 1 month
      // is March 3 there; we clamp to Feb 28).
      const got = theirs[key]
      assert.instanceOf(got, Date, key)
      const now = Date.now()
      const target = SmppTime.resolve(want.time, now)
      const dst = Math.abs(new Date(now).getTimezoneOffset() - new Date(target).getTimezoneOffset()) * 60_000
      const months = want.time.years * 12 + want.time.months > 0 ? 3 * 86_400_000 : 0
      assert.isAtMost(Math.abs((got as Date).getTime() - target), 5_000 + dst + months, key)
    } else {
      assert.deepStrictEqual(plain(theirs[key]), want, key)
    }
  }
}

const nodeDecode = (bytes: Uint8Array): NodePdu => {
  const pdu = smpp.PDU.fromBuffer(Buffer.from(bytes))
  if (pdu === false) return assert.fail("node-smpp did not read a PDU")
  return pdu
}

// ---------------------------------------------------------------------------------------

describe("Codec goldens", () => {
  it("cover all 27 PDUs, at least 40 of them, at least half written by node-smpp", () => {
    const all = [...NodeSmpp.goldens, ...Spec.goldens]
    assert.isAtLeast(all.length, 40)
    assert.isAtLeast(NodeSmpp.goldens.length * 2, all.length)
    assert.sameMembers([...new Set(all.map((g) => g.pdu._tag))], [...commandNames])
    const bySource = (list: ReadonlyArray<{ readonly pdu: Pdu.Pdu }>) => new Set<CommandName>(list.map((g) => g.pdu._tag))
    assert.strictEqual(bySource(NodeSmpp.goldens).size, 27, "node-smpp wrote every kind")
  })

  describe("written by node-smpp", () => {
    describe.each(NodeSmpp.goldens.map((g) => [g.name, g] as const))("%s", (_, golden) => {
      it("node-smpp writes the recorded octets", () => {
        assert.strictEqual(new smpp.PDU(golden.command, golden.options()).toBuffer().toString("hex"), golden.hex)
      })

      it("decodes to the PDU, field by field as node-smpp wrote them", () => {
        const bytes = fromHex(golden.hex)
        const decoded = decodeOk(bytes)
        assert.deepStrictEqual(decoded, golden.pdu)
        const theirs = new smpp.PDU(golden.command, golden.options())
        theirs.toBuffer() // node-smpp's PDU now holds what it wrote (detected data_coding, UDH flag, …)
        assert.strictEqual(theirs.command_length, bytes.length)
        assertSameFields(theirs, decoded, bytes.length, false)
      })

      it("encodes to node-smpp's octets byte for byte", () => {
        assert.strictEqual(toHex(Codec.encode(golden.pdu)), golden.hex)
        assert.strictEqual(toHex(Codec.encode(decodeOk(fromHex(golden.hex)))), golden.hex)
      })

      it("our octets decode in node-smpp to the same fields", () => {
        const bytes = Codec.encode(golden.pdu)
        assertSameFields(nodeDecode(bytes), golden.pdu, bytes.length, true)
      })
    })

    describe.each(NodeSmpp.refused.map((r) => [r.name, r] as const))("refused by SMPP 3.4: %s", (_, refused) => {
      it("is refused with the status to answer", () => {
        assert.strictEqual(new smpp.PDU(refused.command, refused.options()).toBuffer().toString("hex"), refused.hex)
        const bytes = fromHex(refused.hex)
        const result = Codec.decode(bytes)
        if (Either.isRight(result)) return assert.fail("decoded")
        const { commandId, field, reason, sequenceNumber, status } = result.left
        assert.deepStrictEqual({ reason, status, field }, refused.error)
        assert.strictEqual(commandId, CommandId[refused.command as CommandName])
        assert.strictEqual(sequenceNumber, refused.options().sequence_number)
      })
    })
  })

  describe("written from the specification", () => {
    describe.each(Spec.goldens.map((g) => [g.name, g] as const))("%s", (_, golden) => {
      it("decodes to the PDU", () => {
        const bytes = fromHex(golden.hex)
        assert.strictEqual(new DataView(bytes.buffer).getUint32(0), bytes.length, "command_length")
        assert.deepStrictEqual(decodeOk(bytes), golden.pdu)
      })

      it("encodes to the octets", () => {
        assert.strictEqual(toHex(Codec.encode(golden.pdu)), golden.hex)
        assert.strictEqual(toHex(Codec.encode(decodeOk(fromHex(golden.hex)))), golden.hex)
      })

      it("decodes in node-smpp to the same fields", () => {
        const bytes = Codec.encode(golden.pdu)
        const theirs = nodeDecode(bytes)
        if (golden.nodeSmppMisreads === undefined) {
          assertSameFields(theirs, golden.pdu, bytes.length, true)
        } else {
          // node-smpp reads source_telematics_id as 2 octets: ours (0x05) and the next
          // octet on the wire (0x04, the high octet of message_payload's tag); and
          // alert_on_message_delivery as 1 octet although its length is 0: the next octet
          // (0x13, the high octet of its_session_info's tag).
          const misread = ["source_telematics_id", "alert_on_message_delivery"]
          assertSameFields(theirs, golden.pdu, bytes.length, true, misread)
          assert.strictEqual(theirs.source_telematics_id, 0x0504)
          assert.strictEqual(theirs.alert_on_message_delivery, 0x13)
        }
      })
    })
  })

  describe("through the PduFromBytes Schema", () => {
    const decode = Schema.decodeUnknownEither(Codec.PduFromBytes)
    const encode = Schema.encodeEither(Codec.PduFromBytes)
    const all = [...NodeSmpp.goldens, ...Spec.goldens]

    it("decodes every golden to its PDU and encodes it back to the same octets", () => {
      for (const golden of all) {
        const decoded = decode(fromHex(golden.hex))
        if (Either.isLeft(decoded)) return assert.fail(`${golden.name}: ${decoded.left.message}`)
        assert.deepStrictEqual(decoded.right, golden.pdu, golden.name)
        assert.strictEqual(toHex(Either.getOrThrow(encode(decoded.right))), golden.hex, golden.name)
      }
    })

    it("is the codec's transformation between octets and the PDU union", () => {
      assert.strictEqual(String(Schema.encodedSchema(Codec.PduFromBytes)), "Uint8ArrayFromSelf")
      for (const golden of all) assert.isTrue(Schema.is(Codec.PduFromBytes)(golden.pdu), golden.name)
    })
  })

  it("node-smpp's @ under data_coding 1 is GSM 0x00, which IA5 would write as 0x40", () => {
    const golden = NodeSmpp.goldens.find((g) => g.name.startsWith("submit_sm with `@`"))!
    const pdu = decodeOk(fromHex(golden.hex)) as Pdu.SubmitSm
    assert.strictEqual(pdu.dataCoding, 1)
    assert.strictEqual(toHex(pdu.shortMessage), "610062")
    assert.strictEqual(toHex(Uint8Array.from(Buffer.from("a@b", "ascii"))), "614062")
  })
})
