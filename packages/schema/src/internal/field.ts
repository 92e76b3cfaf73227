/**
 * Field constructors for PDU declarations: each gives the field's Schema (with the
 * specification's limits) and its wire layout as an annotation, from one call.
 */
import * as Schema from "effect/Schema"
import { CommandStatus } from "../CommandStatus.js"
import { type Wire, WireAnnotationId } from "./wire.js"

const wire = <S extends Schema.Schema.Any>(schema: S, layout: Wire): S =>
  schema.annotations({ [WireAnnotationId]: layout }) as S

const withDefault = <A, I>(schema: Schema.Schema<A, I>, value: () => A) =>
  Schema.propertySignature(schema).pipe(Schema.withConstructorDefault(value))

/** Octets 0x01–0xFF: a C-Octet String cannot hold a NUL, and Latin-1 keeps it byte for byte. */
const noNul = /^[\x01-\xff]*$/

export const u8Schema = wire(Schema.Int.pipe(Schema.between(0, 0xff)), { kind: "u8" })

export const u32Schema = wire(Schema.Int.pipe(Schema.between(0, 0xffffffff)), { kind: "u32" })

/** A 1-octet integer field, 0 unless given. */
export const u8 = withDefault(u8Schema, () => 0)

/** A 4-octet integer field, 0 unless given. */
export const u32 = withDefault(u32Schema, () => 0)

/** A C-Octet String Schema of at most `max` octets including the NUL. */
export const cstringSchema = (max: number, status: number = CommandStatus.ESME_RINVPARLEN) =>
  wire(
    Schema.String.pipe(Schema.maxLength(max - 1), Schema.pattern(noNul)),
    { kind: "cstring", max, status }
  )

/** A C-Octet String field, empty unless given. */
export const cstring = (max: number, status?: number) => withDefault(cstringSchema(max, status), () => "")

/** A time field: empty, or a 16-character SMPP time (17 octets with the NUL). */
export const time = (status: number) =>
  withDefault(
    wire(
      Schema.String.pipe(Schema.pattern(/^([\x01-\xff]{16})?$/)),
      { kind: "cstring", max: 17, sizes: [1, 17], status }
    ),
    () => ""
  )

/** sm_length and short_message: 0–254 octets. */
export const shortMessage = withDefault(
  wire(
    Schema.Uint8ArrayFromSelf.pipe(Schema.filter((bytes) => bytes.length <= 254 || "at most 254 octets")),
    { kind: "shortMessage" }
  ),
  () => new Uint8Array(0)
)

/** An optional field of a response whose body may be left out when command_status is not 0. */
export const trailing = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(schema, { exact: true })
