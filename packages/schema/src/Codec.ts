/**
 * The SMPP wire codec: PDUs to bytes and back, compiled once from the declarations in
 * `Pdu.ts`. Decoding never throws: it answers a typed `DecodeError` that carries the
 * command_status to answer the peer with.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { CommandId, type CommandName } from "./CommandId.js"
import { CommandStatus } from "./CommandStatus.js"
import { DecodeError, EncodeError } from "./DecodeError.js"
import { ByteWriter, readU32 } from "./internal/bytes.js"
import { compile, type Cursor, Fail, type PduCodec, Refuse } from "./internal/compile.js"
import * as Pdu from "./Pdu.js"

/**
 * The size of the SMPP header.
 *
 * @since 0.1.0
 * @category constants
 */
export const HEADER_LENGTH = 16

/**
 * The largest command_length decoded unless told otherwise (64 KiB).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_LENGTH = 65536

const codecs = new Map<number, PduCodec>()
const byTag = new Map<string, PduCodec>()
for (const schema of Object.values(Pdu.schemas)) {
  const codec = compile(schema)
  codecs.set(codec.commandId, codec)
  byTag.set(codec.tag, codec)
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DecodeOptions {
  /** The largest command_length accepted; default 64 KiB. */
  readonly maxLength?: number
}

const cursor: Cursor = { buf: new Uint8Array(0), pos: 0, end: 0 }

const failure = (
  reason: DecodeError["reason"],
  status: number,
  commandId: number | undefined,
  sequenceNumber: number | undefined,
  field: string | undefined,
  detail: string
) => Either.left(new DecodeError({ reason, status, commandId, sequenceNumber, field, detail }))

/**
 * Decodes one whole PDU (`bytes` holds exactly command_length octets).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (bytes: Uint8Array, options?: DecodeOptions): Either.Either<Pdu.Pdu, DecodeError> => {
  const max = options?.maxLength ?? DEFAULT_MAX_LENGTH
  const length = bytes.length >= 4 ? readU32(bytes, 0) : undefined
  const commandId = bytes.length >= 8 ? readU32(bytes, 4) : undefined
  const sequenceNumber = bytes.length >= HEADER_LENGTH ? readU32(bytes, 12) : undefined
  if (length === undefined || length < HEADER_LENGTH || length > max || length !== bytes.length) {
    const detail = length === undefined
      ? "fewer than 4 octets"
      : length < HEADER_LENGTH
      ? `command_length ${length} is below 16`
      : length > max
      ? `command_length ${length} is above the maximum ${max}`
      : `command_length ${length} but ${bytes.length} octets given`
    return failure("InvalidCommandLength", CommandStatus.ESME_RINVCMDLEN, commandId, sequenceNumber, undefined, detail)
  }
  const codec = codecs.get(commandId!)
  if (codec === undefined) {
    return failure(
      "UnknownCommandId",
      CommandStatus.ESME_RINVCMDID,
      commandId,
      sequenceNumber,
      undefined,
      `command_id 0x${commandId!.toString(16).padStart(8, "0")} is not in SMPP 3.4`
    )
  }
  let out: Record<string, unknown>
  cursor.buf = bytes
  cursor.pos = HEADER_LENGTH
  cursor.end = length
  try {
    out = codec.decodeBody(cursor, readU32(bytes, 8), sequenceNumber!)
  } catch (e) {
    if (e instanceof Fail) return failure(e.reason, e.status, commandId, sequenceNumber, e.field, e.detail)
    return failure("InvalidField", CommandStatus.ESME_RSYSERR, commandId, sequenceNumber, undefined, String(e))
  } finally {
    cursor.buf = empty
  }
  return Either.right(out as unknown as Pdu.Pdu)
}

const empty = new Uint8Array(0)

/**
 * Writes a PDU at the end of `writer`, so that many PDUs go out in one socket write.
 * Throws `EncodeError` (and writes nothing) when a field is outside its Schema's limits.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeInto = (writer: ByteWriter, pdu: Pdu.Pdu): void => {
  const codec = byTag.get(pdu._tag)
  const start = writer.pos
  try {
    if (codec === undefined) throw new Refuse("_tag", `${String(pdu._tag)} is not a PDU of SMPP 3.4`)
    writer.ensure(HEADER_LENGTH)
    writer.pos += HEADER_LENGTH
    codec.encodeBody(writer, pdu as unknown as Record<string, unknown>)
    const status = pdu.commandStatus
    const sequence = pdu.sequenceNumber
    if (status >>> 0 !== status) throw new Refuse("commandStatus", "must be an integer 0–4294967295")
    if (sequence >>> 0 !== sequence) throw new Refuse("sequenceNumber", "must be an integer 0–4294967295")
    writer.u32At(start, writer.pos - start)
    writer.u32At(start + 4, codec.commandId)
    writer.u32At(start + 8, status)
    writer.u32At(start + 12, sequence)
  } catch (e) {
    writer.pos = start
    if (e instanceof Refuse) throw new EncodeError({ command: String(pdu._tag), field: e.field, detail: e.detail })
    throw e
  }
}

const scratch = new ByteWriter(1024)

/**
 * Encodes one PDU. Throws `EncodeError` when a field is outside its Schema's limits — a
 * value built with the PDU's `make` from typed fields never is; see `encodeEither` for
 * values from elsewhere.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (pdu: Pdu.Pdu): Uint8Array => {
  scratch.reset()
  encodeInto(scratch, pdu)
  return scratch.take()
}

/**
 * Encodes one PDU, answering a typed error for a value outside the limits.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeEither = (pdu: Pdu.Pdu): Either.Either<Uint8Array, EncodeError> => {
  try {
    return Either.right(encode(pdu))
  } catch (e) {
    if (e instanceof EncodeError) return Either.left(e)
    throw e
  }
}

/**
 * The growable output buffer `encodeInto` writes to.
 *
 * @since 0.1.0
 * @category encoding
 */
export { ByteWriter as Writer }

/**
 * A header-only PDU (enquire_link, unbind, generic_nack and the like) written from a
 * template: the 16 octets without going through the field machinery.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeHeader = (command: CommandName, commandStatus: number, sequenceNumber: number): Uint8Array => {
  const out = new Uint8Array(HEADER_LENGTH)
  const view = new DataView(out.buffer)
  view.setUint32(0, HEADER_LENGTH)
  view.setUint32(4, CommandId[command])
  view.setUint32(8, commandStatus)
  view.setUint32(12, sequenceNumber)
  return out
}

// The target only checks: parsing through the PDU Struct would rebuild `tlvs` in
// declaration order and lose the wire order that makes re-encoding byte-exact.
const isPdu = Schema.is(Pdu.Pdu)
const DecodedPdu = Schema.declare((u: unknown): u is Pdu.Pdu => isPdu(u), { identifier: "Pdu" })

/**
 * A Schema from the wire bytes of one PDU to the PDU.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PduFromBytes: Schema.Schema<Pdu.Pdu, Uint8Array> = Schema.transformOrFail(
  Schema.Uint8ArrayFromSelf,
  DecodedPdu,
  {
    strict: true,
    decode: (bytes, _, ast) =>
      Either.match(decode(bytes), {
        onLeft: (error) => ParseResult.fail(new ParseResult.Type(ast, bytes, error.message)),
        onRight: ParseResult.succeed
      }),
    encode: (pdu, _, ast) =>
      Either.match(encodeEither(pdu), {
        onLeft: (error) => ParseResult.fail(new ParseResult.Type(ast, pdu, error.message)),
        onRight: ParseResult.succeed
      })
  }
)
