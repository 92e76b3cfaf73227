/**
 * Properties of the wire codec over all 27 PDUs, with values generated from the PDU
 * Schemas themselves (`Arbitrary.make`).
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import * as Arbitrary from "effect/Arbitrary"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import * as Codec from "../src/Codec.js"
import { type CommandName, commandNames } from "../src/CommandId.js"
import { CommandStatus } from "../src/CommandStatus.js"
import type { EncodeError } from "../src/DecodeError.js"
import * as Pdu from "../src/Pdu.js"
import * as Tlv from "../src/Tlv.js"

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")

// ---------------------------------------------------------------------------------------
// Arbitraries derived from the Schemas
// ---------------------------------------------------------------------------------------

const tlvsAst = Tlv.Tlvs.ast as SchemaAST.TypeLiteral
const unknownKeyAst = tlvsAst.indexSignatures[0]

/**
 * The Schema's key of an unknown TLV is a template literal refined by a pattern
 * (`0x` and four lowercase hex digits); Arbitrary derives it by filtering random strings,
 * which takes ~30 ms a key. This annotation generates the same set of keys directly — half
 * of them from the vendor range 0x1400–0x3FFF, the rest anywhere in 0x0000–0xFFFF.
 */
const fastUnknownKeys = new SchemaAST.TypeLiteral(
  tlvsAst.propertySignatures,
  [
    new SchemaAST.IndexSignature(
      SchemaAST.annotations(unknownKeyAst.parameter, {
        [SchemaAST.ArbitraryAnnotationId]: () => (fc: typeof FastCheck) =>
          fc.oneof(fc.integer({ min: 0x1400, max: 0x3fff }), fc.integer({ min: 0, max: 0xffff })).map(Tlv.unknownKey)
      }),
      unknownKeyAst.type,
      unknownKeyAst.isReadonly
    )
  ],
  tlvsAst.annotations
)

const withFastUnknownKeys = (ast: SchemaAST.TypeLiteral): SchemaAST.TypeLiteral =>
  new SchemaAST.TypeLiteral(
    ast.propertySignatures.map((ps) =>
      ps.type === tlvsAst
        ? new SchemaAST.PropertySignature(ps.name, fastUnknownKeys, ps.isOptional, ps.isReadonly, ps.annotations)
        : ps
    ),
    ast.indexSignatures,
    ast.annotations
  )

/** The optional ("trailing") fields of a PDU, in wire order, read from its declaration. */
const trailingFields = (name: CommandName): ReadonlyArray<string> =>
  (Pdu.schemas[name].ast as SchemaAST.TypeLiteral).propertySignatures
    .filter((ps) => ps.isOptional)
    .map((ps) => String(ps.name))

const hasTlvs = (name: CommandName): boolean =>
  (Pdu.schemas[name].ast as SchemaAST.TypeLiteral).propertySignatures.some((ps) => ps.name === "tlvs")

type AnyPdu = Pdu.Pdu & { readonly tlvs?: Record<string, unknown>; readonly shortMessage?: Uint8Array }

const statuses = Object.values(CommandStatus)

/**
 * Values of one PDU kind from its Schema, with two additions the derived arbitrary would
 * hardly ever produce: command_status from the specification's table or the vendor range
 * 0x400–0x4FF (besides the derived random u32), and PDUs without any TLV (the derived
 * arbitrary fills most of the 44 optional TLVs, so a response without its body never came).
 */
const arbitraryOf = (name: CommandName): FastCheck.Arbitrary<AnyPdu> => {
  const cached = arbitraries.get(name)
  if (cached !== undefined) return cached
  const derived = Arbitrary.make(
    Schema.make<AnyPdu>(withFastUnknownKeys(Pdu.schemas[name].ast as SchemaAST.TypeLiteral))
  )
  const status = FastCheck.option(
    FastCheck.oneof(FastCheck.integer({ min: 0x400, max: 0x4ff }), FastCheck.constantFrom(...statuses)),
    { nil: undefined, freq: 2 }
  )
  const arbitrary = FastCheck.tuple(derived, status, FastCheck.boolean()).map(([pdu, commandStatus, bare]) => {
    const out: AnyPdu = { ...pdu }
    if (commandStatus !== undefined) Object.assign(out, { commandStatus })
    if (bare && hasTlvs(name)) Object.assign(out, { tlvs: {} })
    return out
  })
  arbitraries.set(name, arbitrary)
  return arbitrary
}

const arbitraries = new Map<CommandName, FastCheck.Arbitrary<AnyPdu>>()

// ---------------------------------------------------------------------------------------
// The wire rules the Schemas cannot express. Values are filtered on these, and only these.
// ---------------------------------------------------------------------------------------

const isEmpty = (tlvs: Record<string, unknown> | undefined) => tlvs === undefined || Object.keys(tlvs).length === 0

/**
 * The trailing fields of a response are a prefix: the body ends at the first absent one,
 * so no later field and no TLV can follow it. The Schema has each field optional on its own.
 */
const trailingViolation = (pdu: AnyPdu): string | undefined => {
  const record = pdu as unknown as Record<string, unknown>
  const fields = trailingFields(pdu._tag)
  const firstAbsent = fields.findIndex((f) => record[f] === undefined)
  if (firstAbsent < 0) return undefined
  const later = fields.slice(firstAbsent + 1).find((f) => record[f] !== undefined)
  if (later !== undefined) return later
  return isEmpty(pdu.tlvs) ? undefined : "tlvs"
}

/** short_message and message_payload must not both carry the message (SMPP 3.4, message_payload). */
const bothMessages = (pdu: AnyPdu): boolean =>
  pdu.shortMessage !== undefined && pdu.shortMessage.length > 0 && pdu.tlvs?.messagePayload !== undefined

const standardTagOf = (key: string): Tlv.TlvDefinition | undefined =>
  key.startsWith("0x") ? Tlv.byTag.get(parseInt(key.slice(2), 16)) : undefined

/**
 * An unknown-TLV key that is a standard tag (`"0x0005"`) would come back under the TLV's
 * name: the codec refuses to encode it (tested below), so round trips leave it out.
 */
const standardTagKey = (pdu: AnyPdu): string | undefined =>
  Object.keys(pdu.tlvs ?? {}).find((key) => standardTagOf(key) !== undefined)

const isWireValid = (pdu: AnyPdu): boolean =>
  trailingViolation(pdu) === undefined && !bothMessages(pdu) && standardTagKey(pdu) === undefined

const encodeError = (pdu: AnyPdu): EncodeError => {
  const result = Codec.encodeEither(pdu)
  if (Either.isRight(result)) assert.fail(`${pdu._tag} encoded to ${hex(result.right)} but should be refused`)
  return result.left
}

const NUM_RUNS = 200

describe("Codec properties", () => {
  describe.each(commandNames.map((name) => [name]))("%s", (name) => {
    const arbitrary = arbitraryOf(name).filter(isWireValid)
    const is = Schema.is(Pdu.schemas[name] as Schema.Schema<AnyPdu>)

    it("decode(encode(p)) equals p, and encode(decode(b)) equals b byte for byte", () => {
      FastCheck.assert(
        FastCheck.property(arbitrary, (pdu) => {
          const bytes = Codec.encode(pdu)
          assert.strictEqual(bytes.length, new DataView(bytes.buffer, bytes.byteOffset).getUint32(0))
          const decoded = Codec.decode(bytes)
          if (Either.isLeft(decoded)) assert.fail(`${hex(bytes)}: ${decoded.left.message}`)
          assert.deepStrictEqual(decoded.right, pdu)
          assert.isTrue(is(decoded.right), "the decoded value satisfies its Schema")
          assert.strictEqual(hex(Codec.encode(decoded.right)), hex(bytes))
        }),
        { numRuns: NUM_RUNS }
      )
    })
  })

  const withTrailing = commandNames.filter((name) => trailingFields(name).length > 0)

  it("has trailing fields exactly on the responses whose body may be left out", () => {
    assert.deepStrictEqual([...withTrailing].sort(), [
      "bind_receiver_resp",
      "bind_transceiver_resp",
      "bind_transmitter_resp",
      "data_sm_resp",
      "deliver_sm_resp",
      "submit_multi_resp",
      "submit_sm_resp"
    ])
  })

  it("refuses to encode a trailing field or a TLV after an absent trailing field", () => {
    const arbitrary = FastCheck.constantFrom(...withTrailing)
      .chain(arbitraryOf)
      .filter((pdu) => trailingViolation(pdu) !== undefined)
    FastCheck.assert(
      FastCheck.property(arbitrary, (pdu) => {
        assert.strictEqual(encodeError(pdu).field, trailingViolation(pdu))
      }),
      { numRuns: 100 }
    )
  })

  it("encodes a response without its body when the first trailing field is absent", () => {
    for (const name of withTrailing) {
      const bytes = Codec.encode({ _tag: name, commandStatus: 0x45, sequenceNumber: 9, tlvs: {} } as AnyPdu)
      assert.strictEqual(bytes.length, 16, name)
      assert.deepStrictEqual(Either.getOrThrow(Codec.decode(bytes)), {
        _tag: name,
        commandStatus: 0x45,
        sequenceNumber: 9,
        tlvs: {}
      } as AnyPdu)
    }
  })

  it("refuses short_message together with message_payload", () => {
    const kinds = commandNames.filter((name) => "shortMessage" in Pdu.schemas[name].fields)
    assert.deepStrictEqual([...kinds].sort(), ["deliver_sm", "replace_sm", "submit_multi", "submit_sm"])
    const arbitrary = FastCheck.constantFrom(...kinds).chain(arbitraryOf).filter(bothMessages)
    FastCheck.assert(
      FastCheck.property(arbitrary, (pdu) => {
        assert.strictEqual(encodeError(pdu).field, "messagePayload")
      }),
      { numRuns: 100 }
    )
  })

  it("refuses an unknown-TLV key that is the tag of a standard TLV", () => {
    const kinds = commandNames.filter((name) => hasTlvs(name))
    const arbitrary = FastCheck.tuple(
      FastCheck.constantFrom(...kinds).chain(arbitraryOf).filter(isWireValid).filter((pdu) =>
        trailingFields(pdu._tag).every((f) => (pdu as unknown as Record<string, unknown>)[f] !== undefined)
      ),
      FastCheck.constantFrom(...Tlv.byTag.keys()),
      FastCheck.uint8Array({ maxLength: 8 })
    )
    FastCheck.assert(
      FastCheck.property(arbitrary, ([pdu, tag, value]) => {
        const key = Tlv.unknownKey(tag)
        const error = encodeError({ ...pdu, tlvs: { ...pdu.tlvs, [key]: value } } as AnyPdu)
        assert.strictEqual(error.field, key)
        assert.include(error.detail, Tlv.byTag.get(tag)!.name)
      }),
      { numRuns: 100 }
    )
  })

  it("keeps unknown TLVs of the vendor range in wire order, and vendor command statuses", () => {
    const arbitrary = FastCheck.tuple(
      arbitraryOf("deliver_sm").filter(isWireValid),
      FastCheck.uniqueArray(FastCheck.integer({ min: 0x1400, max: 0x3fff }), { minLength: 1, maxLength: 6 }),
      FastCheck.oneof(FastCheck.integer({ min: 0x400, max: 0x4ff }), FastCheck.integer({ min: 0, max: 0xffffffff }))
    )
    FastCheck.assert(
      FastCheck.property(arbitrary, ([pdu, tags, commandStatus]) => {
        const vendor: Record<string, Uint8Array> = {}
        for (const tag of tags) vendor[Tlv.unknownKey(tag)] = Uint8Array.of(tag & 0xff, tag >>> 8)
        const value = { ...pdu, commandStatus, tlvs: { ...vendor, ...pdu.tlvs } } as AnyPdu
        const bytes = Codec.encode(value)
        assert.strictEqual(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8), commandStatus)
        const decoded = Either.getOrThrow(Codec.decode(bytes)) as AnyPdu
        assert.deepStrictEqual(decoded, value)
        assert.deepStrictEqual(Object.keys(decoded.tlvs!), Object.keys(value.tlvs!))
        assert.strictEqual(hex(Codec.encode(decoded)), hex(bytes))
      }),
      { numRuns: 100 }
    )
  })
})
