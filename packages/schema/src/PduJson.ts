/**
 * The JSON form of a PDU, for the command line and HTTP APIs:
 *
 * ```json
 * { "command": "submit_sm", "commandStatus": 0, "sequenceNumber": 7,
 *   "sourceAddr": "Acme", "destinationAddr": "491701234567", "shortMessage": "48656c6c6f",
 *   "tlvs": { "sarMsgRefNum": 42, "0x1400": "cafe" } }
 * ```
 *
 * `command` is the specification's name; the header and body fields follow under their
 * camelCase names in wire order; octet strings (short_message, octet TLVs, unknown TLVs)
 * are lowercase hex; `tlvs` is left out when there are none, and keeps the wire order of
 * the TLVs so that a PDU re-encodes byte for byte. The TLVs that may occur more than once
 * (callbackNum, callbackNumPresInd, callbackNumAtag) are JSON arrays
 * (`"callbackNum": ["01010131", "01010132"]`). Reading is lenient where it costs
 * nothing: fields left out take the defaults of the PDU's `make`, `commandStatus` may be
 * a name (`"ESME_RTHROTTLED"`), hex may be in either case, and a lone value of a
 * repeatable TLV is read as a list of one.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import { CommandId, type CommandName } from "./CommandId.js"
import { CommandStatus } from "./CommandStatus.js"
import { wireOf } from "./internal/wire.js"
import * as Pdu from "./Pdu.js"
import * as Tlv from "./Tlv.js"

/**
 * A JSON value.
 *
 * @since 0.1.0
 * @category models
 */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | JsonObject

/**
 * A JSON object.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonObject {
  readonly [key: string]: Json
}

/**
 * Why a JSON value is not a PDU. `field` is the path to the offending field
 * (`"tlvs.messagePayload"`, `"destAddresses[0].destinationAddr"`) when there is one.
 *
 * @since 0.1.0
 * @category errors
 */
export class PduJsonError extends Schema.TaggedError<PduJsonError>()("PduJsonError", {
  reason: Schema.Literal("NotAnObject", "UnknownCommand", "UnknownField", "InvalidHex", "InvalidValue"),
  command: Schema.optional(Schema.String),
  field: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  override get message(): string {
    const where = [this.command, this.field].filter((part) => part !== undefined).join(".")
    return where === "" ? this.detail : `${where}: ${this.detail}`
  }
}

// ---------------------------------------------------------------------------
// hex

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/**
 * Lowercase hex of the octets.
 *
 * @since 0.1.0
 * @category hex
 */
export const hexFromBytes = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]]
  return out
}

const nibble = (code: number): number =>
  code >= 48 && code <= 57 ? code - 48 : code >= 97 && code <= 102 ? code - 87 : code >= 65 && code <= 70 ? code - 55 : -1

/** The octets, or why the text is not hex. */
const parseHex = (hex: string): Uint8Array | string => {
  if (hex.length % 2 !== 0) return `hex must have an even number of digits, got ${hex.length}`
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i))
    const lo = nibble(hex.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) {
      const at = hi < 0 ? 2 * i : 2 * i + 1
      return `${JSON.stringify(hex[at])} at index ${at} is not a hex digit`
    }
    out[i] = (hi << 4) | lo
  }
  return out
}

/**
 * Octets from hex (either case, an even number of digits, nothing else).
 *
 * @since 0.1.0
 * @category hex
 */
export const bytesFromHex = (hex: string): Either.Either<Uint8Array, PduJsonError> => {
  const bytes = parseHex(hex)
  return typeof bytes === "string"
    ? Either.left(new PduJsonError({ reason: "InvalidHex", detail: bytes }))
    : Either.right(bytes)
}

// ---------------------------------------------------------------------------
// the layout of each PDU, read once from its declaration

interface Layout {
  readonly schema: Schema.Schema.AnyNoContext & {
    readonly make: (props: Record<string, unknown>, options: boolean) => Record<string, unknown>
  }
  /** Body fields in wire order (header and tlvs excluded). */
  readonly fields: ReadonlyArray<string>
  /** Body fields carried as octets. */
  readonly octetFields: ReadonlySet<string>
  readonly hasTlvs: boolean
}

const headerFields = new Set(["_tag", "commandStatus", "sequenceNumber", "tlvs"])

const layouts = new Map<string, Layout>(
  (Object.keys(Pdu.schemas) as Array<CommandName>).map((name) => {
    const schema = Pdu.schemas[name]
    const signatures = (schema.ast as SchemaAST.TypeLiteral).propertySignatures
    const body = signatures.filter((ps) => !headerFields.has(String(ps.name)))
    return [name, {
      schema: schema as unknown as Layout["schema"],
      fields: body.map((ps) => String(ps.name)),
      octetFields: new Set(body.filter((ps) => wireOf(ps.type)?.kind === "shortMessage").map((ps) => String(ps.name))),
      hasTlvs: signatures.some((ps) => ps.name === "tlvs")
    }]
  })
)

const octetTlvs = new Set(
  (Object.keys(Tlv.definitions) as Array<Tlv.TlvName>).filter((name) => Tlv.definitions[name].kind === "octets")
)

const repeatable: ReadonlySet<string> = Tlv.repeatableNames

const unknownTag = /^0x[0-9a-fA-F]{4}$/

// ---------------------------------------------------------------------------
// to JSON

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !(u instanceof Uint8Array)

const jsonValue = (v: unknown): Json => {
  if (v instanceof Uint8Array) return hexFromBytes(v)
  if (Array.isArray(v)) return v.map(jsonValue)
  if (isPlainObject(v)) {
    const out: Record<string, Json> = {}
    for (const key in v) if (v[key] !== undefined) out[key] = jsonValue(v[key])
    return out
  }
  return v as Json
}

/**
 * The JSON form of a PDU: `command`, `commandStatus`, `sequenceNumber`, the body fields in
 * wire order, then `tlvs` when there are any.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toJson = (pdu: Pdu.Pdu): JsonObject => {
  const value = pdu as unknown as Record<string, unknown>
  const out: Record<string, Json> = {
    command: pdu._tag,
    commandStatus: pdu.commandStatus,
    sequenceNumber: pdu.sequenceNumber
  }
  const layout = layouts.get(pdu._tag)
  const fields = layout?.fields ?? Object.keys(value).filter((key) => !headerFields.has(key))
  for (const field of fields) {
    if (value[field] !== undefined) out[field] = jsonValue(value[field])
  }
  if (isPlainObject(value.tlvs)) {
    const tlvs = jsonValue(value.tlvs) as JsonObject
    if (Object.keys(tlvs).length > 0) out.tlvs = tlvs
  }
  return out
}

// ---------------------------------------------------------------------------
// from JSON

const statusOf = (value: unknown): unknown => {
  if (typeof value !== "string") return value
  if (Object.prototype.hasOwnProperty.call(CommandStatus, value)) return CommandStatus[value as keyof typeof CommandStatus]
  // Vendor statuses have no name: accept them in hex too.
  if (/^0x[0-9a-fA-F]{1,8}$/.test(value)) return parseInt(value.slice(2), 16)
  return undefined
}

const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key, i) => typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`).join("")

const invalid = (command: string, field: string | undefined, detail: string) =>
  new PduJsonError(
    field === undefined ? { reason: "InvalidValue", command, detail } : { reason: "InvalidValue", command, field, detail }
  )

const badHex = (command: string, field: string, detail: string) =>
  new PduJsonError({ reason: "InvalidHex", command, field, detail })

const readTlvs = (
  command: string,
  json: unknown
): Either.Either<{ readonly tlvs: Record<string, unknown>; readonly order: ReadonlyArray<string> }, PduJsonError> => {
  if (!isPlainObject(json)) return Either.left(invalid(command, "tlvs", "must be an object of TLVs by name or tag"))
  const tlvs: Record<string, unknown> = {}
  const order: Array<string> = []
  for (const name in json) {
    const value = json[name]
    const known = Object.prototype.hasOwnProperty.call(Tlv.definitions, name)
    if (!known && !unknownTag.test(name)) {
      return Either.left(
        new PduJsonError({
          reason: "UnknownField",
          command,
          field: `tlvs.${name}`,
          detail: "is not a TLV of SMPP 3.4 nor a tag like 0x1400"
        })
      )
    }
    const key = known ? name : name.toLowerCase()
    if (key in tlvs) {
      return Either.left(invalid(command, `tlvs.${name}`, "the TLV appears twice"))
    }
    if (known && repeatable.has(key)) {
      // A list; a lone value is taken as a list of one.
      const list: ReadonlyArray<unknown> = Array.isArray(value) ? value : [value]
      if (!octetTlvs.has(key as Tlv.TlvName)) {
        tlvs[key] = list
      } else {
        const values: Array<Uint8Array> = []
        for (let i = 0; i < list.length; i++) {
          const bytes = readOctets(command, key, Array.isArray(value) ? `tlvs.${name}[${i}]` : `tlvs.${name}`, list[i])
          if (Either.isLeft(bytes)) return Either.left(bytes.left)
          values.push(bytes.right)
        }
        tlvs[key] = values
      }
    } else if (!known || octetTlvs.has(key as Tlv.TlvName)) {
      const bytes = readOctets(command, key, `tlvs.${name}`, value)
      if (Either.isLeft(bytes)) return Either.left(bytes.left)
      tlvs[key] = bytes.right
    } else {
      tlvs[key] = value
    }
    order.push(key)
  }
  return Either.right({ tlvs, order })
}

/** The octets of an octet TLV (or of one element of a repeatable one) from hex, in its size range. */
const readOctets = (
  command: string,
  key: string,
  field: string,
  value: unknown
): Either.Either<Uint8Array, PduJsonError> => {
  if (typeof value !== "string") return Either.left(invalid(command, field, "must be a hex string"))
  const bytes = parseHex(value)
  if (typeof bytes === "string") return Either.left(badHex(command, field, bytes))
  const def = Tlv.definitions[key as Tlv.TlvName] as Tlv.TlvKind | undefined
  const [min, max] = def?.kind === "octets" ? [def.min, def.max] : [0, 0xffff]
  if (bytes.length < min || bytes.length > max) {
    return Either.left(invalid(command, field, `must be ${min}–${max} octets, got ${bytes.length}`))
  }
  return Either.right(bytes)
}

/**
 * Reads the JSON form of a PDU (as `JSON.parse` gives it) and checks it against the PDU's
 * Schema. Fields left out take the defaults of the PDU's `make`.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromJson = (json: unknown): Either.Either<Pdu.Pdu, PduJsonError> => {
  if (!isPlainObject(json)) {
    return Either.left(new PduJsonError({ reason: "NotAnObject", detail: "a PDU must be a JSON object" }))
  }
  const command = json.command
  if (typeof command !== "string" || !Object.prototype.hasOwnProperty.call(CommandId, command)) {
    return Either.left(
      new PduJsonError({
        reason: "UnknownCommand",
        field: "command",
        detail: command === undefined
          ? "is missing (the PDU's name, like \"submit_sm\")"
          : `${JSON.stringify(command)} is not a PDU of SMPP 3.4`
      })
    )
  }
  const layout = layouts.get(command)!
  const props: Record<string, unknown> = {}
  let order: ReadonlyArray<string> = []
  for (const field in json) {
    const value = json[field]
    if (field === "command" || value === undefined) continue
    if (field === "commandStatus") {
      const status = statusOf(value)
      if (status === undefined) {
        return Either.left(invalid(command, field, `${JSON.stringify(value)} is not a command_status name`))
      }
      props[field] = status
    } else if (field === "sequenceNumber") {
      props[field] = value
    } else if (field === "tlvs" && layout.hasTlvs) {
      const read = readTlvs(command, value)
      if (Either.isLeft(read)) return Either.left(read.left)
      props.tlvs = read.right.tlvs
      order = read.right.order
    } else if (layout.octetFields.has(field)) {
      if (typeof value !== "string") return Either.left(invalid(command, field, "must be a hex string"))
      const bytes = parseHex(value)
      if (typeof bytes === "string") return Either.left(badHex(command, field, bytes))
      props[field] = bytes
    } else if (layout.fields.includes(field)) {
      props[field] = value
    } else {
      return Either.left(
        new PduJsonError({ reason: "UnknownField", command, field, detail: `is not a field of ${command}` })
      )
    }
  }
  // `make` without validation only fills the defaults; the Schema then checks everything.
  const candidate = layout.schema.make(props, true)
  const decoded = Schema.decodeUnknownEither(layout.schema)(candidate, { onExcessProperty: "error" })
  if (Either.isLeft(decoded)) {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
    return Either.left(invalid(command, issue.path.length > 0 ? pathText(issue.path) : undefined, issue.message))
  }
  const pdu = decoded.right as Record<string, unknown>
  // Schema decoding rebuilds `tlvs` in declaration order; the wire order is the input's.
  if (order.length > 1) {
    const tlvs = pdu.tlvs as Record<string, unknown>
    const ordered: Record<string, unknown> = {}
    for (const key of order) if (tlvs[key] !== undefined) ordered[key] = tlvs[key]
    return Either.right({ ...pdu, tlvs: ordered } as unknown as Pdu.Pdu)
  }
  return Either.right(pdu as unknown as Pdu.Pdu)
}

// ---------------------------------------------------------------------------
// as a Schema

const isPdu = Schema.is(Pdu.Pdu)

/**
 * A JSON object (not checked deeper: the PDU's Schema does that).
 *
 * @since 0.1.0
 * @category schemas
 */
export const JsonObjectSchema: Schema.Schema<JsonObject> = Schema.declare(
  (u: unknown): u is JsonObject => isPlainObject(u),
  { identifier: "JsonObject" }
)

// Checked with `is` rather than decoded: decoding would rebuild `tlvs` out of wire order.
const PduSelf: Schema.Schema<Pdu.Pdu> = Schema.declare((u: unknown): u is Pdu.Pdu => isPdu(u), { identifier: "Pdu" })

/**
 * `toJson` / `fromJson` as a Schema from the JSON object to the PDU, for Schema-based APIs
 * (`Schema.parseJson(PduJson)` reads and writes the JSON text).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PduJson: Schema.Schema<Pdu.Pdu, JsonObject> = Schema.transformOrFail(JsonObjectSchema, PduSelf, {
  strict: true,
  decode: (json, _, ast) =>
    Either.match(fromJson(json), {
      onLeft: (error) => ParseResult.fail(new ParseResult.Type(ast, json, error.message)),
      onRight: ParseResult.succeed
    }),
  encode: (pdu) => ParseResult.succeed(toJson(pdu))
})
