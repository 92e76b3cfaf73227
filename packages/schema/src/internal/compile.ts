/**
 * Compiles a PDU declaration (its Schema's AST and wire annotations) into plain
 * encode/decode functions over bytes. Done once per PDU, at module load.
 */
import type * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import { CommandStatus as S } from "../CommandStatus.js"
import * as Tlv from "../Tlv.js"
import { ByteWriter, latin1, readU16, readU32 } from "./bytes.js"
import * as Slab from "./slab.js"
import { pduWireOf, type Wire, wireOf } from "./wire.js"

/** Thrown inside the codec only; `Codec` turns it into a typed error before it leaves. */
export class Fail {
  constructor(
    readonly reason: "InvalidCommandLength" | "InvalidField" | "InvalidTlv",
    readonly status: number,
    readonly field: string | undefined,
    readonly detail: string
  ) {}
}

/** Thrown inside the encoder only, for a value outside its field's limits. */
export class Refuse {
  constructor(readonly field: string, readonly detail: string) {}
}

/** The bytes being decoded: one frame, read once from `pos` to `end`. */
export interface Cursor {
  buf: Uint8Array
  pos: number
  end: number
}

interface FieldCodec {
  readonly name: string
  readonly wire: Wire
  readonly trailing: boolean
  readonly decode: (c: Cursor) => unknown
  readonly encode: (w: ByteWriter, value: unknown) => void
}

export interface PduCodec {
  readonly tag: string
  readonly commandId: number
  /** Reads the body at `c` and answers the whole PDU object. */
  readonly decodeBody: (c: Cursor, commandStatus: number, sequenceNumber: number) => Record<string, unknown>
  readonly encodeBody: (w: ByteWriter, pdu: Record<string, unknown>) => void
}

const u8 = (c: Cursor, field: string): number => {
  if (c.pos >= c.end) throw new Fail("InvalidCommandLength", S.ESME_RINVCMDLEN, field, "the PDU ends before this field")
  return c.buf[c.pos++]
}

const u32 = (c: Cursor, field: string): number => {
  if (c.pos + 4 > c.end) throw new Fail("InvalidCommandLength", S.ESME_RINVCMDLEN, field, "the PDU ends before this field")
  const v = readU32(c.buf, c.pos)
  c.pos += 4
  return v
}

const cstring = (c: Cursor, field: string, max: number, status: number, sizes?: ReadonlyArray<number>): string => {
  const { buf, pos } = c
  const limit = Math.min(c.end, pos + max)
  let i = pos
  while (i < limit && buf[i] !== 0) i++
  if (i === limit) {
    throw new Fail(
      "InvalidField",
      status,
      field,
      limit === c.end && limit - pos < max ? "C-Octet String without its NUL" : `longer than ${max - 1} octets`
    )
  }
  if (sizes !== undefined && !sizes.includes(i - pos + 1)) {
    throw new Fail("InvalidField", status, field, `must be ${sizes.map((n) => n - 1).join(" or ")} characters`)
  }
  c.pos = i + 1
  return latin1(buf, pos, i)
}

const checkU8 = (field: string, v: unknown): number => {
  if (((v as number) & 0xff) !== v) throw new Refuse(field, "must be an integer 0–255")
  return v as number
}

const checkU32 = (field: string, v: unknown): number => {
  if ((v as number) >>> 0 !== v) throw new Refuse(field, "must be an integer 0–4294967295")
  return v as number
}

const writeCstring = (w: ByteWriter, field: string, v: unknown, max: number, sizes?: ReadonlyArray<number>): void => {
  if (typeof v !== "string") throw new Refuse(field, "must be a string")
  if (v.length > max - 1) throw new Refuse(field, `longer than ${max - 1} characters`)
  if (sizes !== undefined && !sizes.includes(v.length + 1)) {
    throw new Refuse(field, `must be ${sizes.map((n) => n - 1).join(" or ")} characters`)
  }
  for (let i = 0; i < v.length; i++) {
    const code = v.charCodeAt(i)
    if (code === 0 || code > 0xff) throw new Refuse(field, "characters must be 0x01–0xFF")
  }
  w.cstring(v)
}

const fieldCodec = (name: string, wire: Wire, trailing: boolean): FieldCodec => ({
  ...fieldCodecOf(name, wire, trailing),
  wire
})

const fieldCodecOf = (name: string, wire: Wire, trailing: boolean): Omit<FieldCodec, "wire"> => {
  switch (wire.kind) {
    case "u8":
      return { name, trailing, decode: (c) => u8(c, name), encode: (w, v) => w.u8(checkU8(name, v)) }
    case "u32":
      return { name, trailing, decode: (c) => u32(c, name), encode: (w, v) => w.u32(checkU32(name, v)) }
    case "cstring": {
      const { max, sizes, status } = wire
      return {
        name,
        trailing,
        decode: (c) => cstring(c, name, max, status, sizes),
        encode: (w, v) => writeCstring(w, name, v, max, sizes)
      }
    }
    case "shortMessage":
      return {
        name,
        trailing,
        decode: (c) => {
          if (c.pos >= c.end) throw new Fail("InvalidField", S.ESME_RINVMSGLEN, "smLength", "the PDU ends before sm_length")
          const n = c.buf[c.pos++]
          if (n > 254) throw new Fail("InvalidField", S.ESME_RINVMSGLEN, "smLength", "sm_length above 254")
          if (c.pos + n > c.end) throw new Fail("InvalidField", S.ESME_RINVMSGLEN, "smLength", "sm_length runs past the end")
          const v = Slab.copy(c.buf, c.pos, c.pos + n)
          c.pos += n
          return v
        },
        encode: (w, v) => {
          if (!(v instanceof Uint8Array)) throw new Refuse(name, "must be a Uint8Array")
          if (v.length > 254) throw new Refuse(name, "longer than 254 octets (use message_payload)")
          w.u8(v.length)
          w.bytes(v)
        }
      }
    case "destAddresses":
      return {
        name,
        trailing,
        decode: (c) => {
          const n = u8(c, "numberOfDests")
          if (n === 0 || n > 254) {
            throw new Fail("InvalidField", S.ESME_RINVNUMDESTS, "numberOfDests", "number_of_dests must be 1–254")
          }
          const out = new Array(n)
          for (let i = 0; i < n; i++) {
            const flag = u8(c, "destFlag")
            if (flag === 1) {
              out[i] = {
                destFlag: 1,
                destAddrTon: u8(c, "destAddrTon"),
                destAddrNpi: u8(c, "destAddrNpi"),
                destinationAddr: cstring(c, "destinationAddr", 21, S.ESME_RINVDSTADR)
              }
            } else if (flag === 2) {
              out[i] = { destFlag: 2, dlName: cstring(c, "dlName", 21, S.ESME_RINVDLNAME) }
            } else {
              throw new Fail("InvalidField", S.ESME_RINVDESTFLAG, "destFlag", `dest_flag ${flag} is neither 1 nor 2`)
            }
          }
          return out
        },
        encode: (w, v) => {
          const list = v as ReadonlyArray<Record<string, unknown>>
          if (!Array.isArray(list) || list.length === 0 || list.length > 254) {
            throw new Refuse(name, "must list 1–254 destinations")
          }
          w.u8(list.length)
          for (const dest of list) {
            if (dest.destFlag === 1) {
              w.u8(1)
              w.u8(checkU8("destAddrTon", dest.destAddrTon))
              w.u8(checkU8("destAddrNpi", dest.destAddrNpi))
              writeCstring(w, "destinationAddr", dest.destinationAddr, 21)
            } else if (dest.destFlag === 2) {
              w.u8(2)
              writeCstring(w, "dlName", dest.dlName, 21)
            } else {
              throw new Refuse("destFlag", "must be 1 or 2")
            }
          }
        }
      }
    case "unsuccessSmes":
      return {
        name,
        trailing,
        decode: (c) => {
          const n = u8(c, "noUnsuccess")
          const out = new Array(n)
          for (let i = 0; i < n; i++) {
            out[i] = {
              destAddrTon: u8(c, "destAddrTon"),
              destAddrNpi: u8(c, "destAddrNpi"),
              destinationAddr: cstring(c, "destinationAddr", 21, S.ESME_RINVDSTADR),
              errorStatusCode: u32(c, "errorStatusCode")
            }
          }
          return out
        },
        encode: (w, v) => {
          const list = v as ReadonlyArray<Record<string, unknown>>
          if (!Array.isArray(list) || list.length > 255) throw new Refuse(name, "must list at most 255 entries")
          w.u8(list.length)
          for (const sme of list) {
            w.u8(checkU8("destAddrTon", sme.destAddrTon))
            w.u8(checkU8("destAddrNpi", sme.destAddrNpi))
            writeCstring(w, "destinationAddr", sme.destinationAddr, 21)
            w.u32(checkU32("errorStatusCode", sme.errorStatusCode))
          }
        }
      }
  }
}

const badTlv = (status: number, field: string | undefined, detail: string) => new Fail("InvalidTlv", status, field, detail)

const fixedLength = (def: Tlv.TlvDefinition): number => {
  switch (def.kind) {
    case "u8":
      return 1
    case "u16":
      return 2
    case "u32":
      return 4
    case "flag":
      return 0
    case "networkErrorCode":
      return 3
    default:
      return -1
  }
}

// No closures in here: it runs per TLV, and every closure allocates.
const decodeTlvValue = (c: Cursor, def: Tlv.TlvDefinition, len: number): unknown => {
  const { buf, pos } = c
  const fixed = fixedLength(def)
  if (fixed >= 0 && len !== fixed) throw badTlv(S.ESME_RINVPARLEN, def.name, `length ${len}, expected ${fixed}`)
  switch (def.kind) {
    case "u8":
      return buf[pos]
    case "u16":
      return readU16(buf, pos)
    case "u32":
      return readU32(buf, pos)
    case "flag":
      return true
    case "networkErrorCode":
      return { networkType: buf[pos], errorCode: readU16(buf, pos + 1) }
    case "octets":
      if (len < def.min || len > def.max) {
        throw badTlv(S.ESME_RINVPARLEN, def.name, `length ${len}, expected ${def.min}–${def.max}`)
      }
      return Slab.copy(buf, pos, pos + len)
    case "cstring": {
      if (len > def.max) throw badTlv(S.ESME_RINVPARLEN, def.name, `length ${len}, at most ${def.max}`)
      let nul = pos
      const end = pos + len
      while (nul < end && buf[nul] !== 0) nul++
      // Tolerated: a value sent without its NUL (seen in the wild). Refused: a NUL inside it.
      if (nul < end - 1) throw badTlv(S.ESME_RINVOPTPARAMVAL, def.name, "NUL inside the value")
      // Without its NUL the text itself must still fit, or the value could not be written back.
      if (nul === end && len > def.max - 1) {
        throw badTlv(S.ESME_RINVPARLEN, def.name, `${len} characters without a NUL, at most ${def.max - 1}`)
      }
      return latin1(buf, pos, nul)
    }
  }
}

const decodeTlvs = (c: Cursor): Record<string, unknown> => {
  const tlvs: Record<string, unknown> = {}
  const { buf, end } = c
  while (c.pos < end) {
    if (end - c.pos < 4) throw badTlv(S.ESME_RINVOPTPARSTREAM, undefined, "a TLV header runs past the end")
    const tag = readU16(buf, c.pos)
    const len = readU16(buf, c.pos + 2)
    c.pos += 4
    if (c.pos + len > end) {
      throw badTlv(S.ESME_RINVOPTPARSTREAM, Tlv.byTag.get(tag)?.name ?? Tlv.unknownKey(tag), "the TLV runs past the end")
    }
    const def = Tlv.byTag.get(tag)
    if (def !== undefined && def.repeatable) {
      // callback_num & co.: every occurrence, in wire order, in one list kept where the first one was.
      const value = decodeTlvValue(c, def, len)
      const list = tlvs[def.name] as Array<unknown> | undefined
      if (list === undefined) tlvs[def.name] = [value]
      else list.push(value)
    } else {
      const key = def === undefined ? Tlv.unknownKey(tag) : def.name
      if (key in tlvs) throw badTlv(S.ESME_RINVOPTPARSTREAM, key, "the TLV appears twice")
      tlvs[key] = def === undefined ? Slab.copy(buf, c.pos, c.pos + len) : decodeTlvValue(c, def, len)
    }
    c.pos += len
  }
  return tlvs
}

const unknownTag = /^0x[0-9a-f]{4}$/

type Definition = { readonly tag: number; readonly repeatable?: true } & Tlv.TlvKind

const encodeTlvs = (w: ByteWriter, tlvs: Record<string, unknown>): void => {
  for (const key in tlvs) {
    let v = tlvs[key]
    if (v === undefined) continue
    const def = (Tlv.definitions as Record<string, Definition>)[key]
    if (def === undefined) {
      if (!unknownTag.test(key)) throw new Refuse(key, "is not a TLV of SMPP 3.4 nor a tag like 0x1400")
      if (!(v instanceof Uint8Array) || v.length > 0xffff) throw new Refuse(key, "must be at most 65535 octets")
      const tag = parseInt(key.slice(2), 16)
      // A standard tag would decode under its name, not this key: the PDU would not round-trip.
      const standard = Tlv.byTag.get(tag)
      if (standard !== undefined) throw new Refuse(key, `is the tag of ${standard.name}: give it by that name`)
      w.u16(tag)
      w.u16(v.length)
      w.bytes(v)
      continue
    }
    // A repeatable TLV is written once per element, in order; `list` stays undefined for the others.
    let list: ReadonlyArray<unknown> | undefined
    let i = 0
    if (def.repeatable === true) {
      // An empty list would not come back from the wire.
      if (!Array.isArray(v) || v.length === 0) throw new Refuse(key, "must list one or more values")
      list = v
      v = list[0]
    }
    for (;;) {
      w.u16(def.tag)
      switch (def.kind) {
        case "u8":
          w.u16(1)
          w.u8(checkU8(key, v))
          break
        case "u16":
          if (((v as number) & 0xffff) !== v) throw new Refuse(key, "must be an integer 0–65535")
          w.u16(2)
          w.u16(v as number)
          break
        case "u32":
          w.u16(4)
          w.u32(checkU32(key, v))
          break
        case "flag":
          if (v !== true) throw new Refuse(key, "must be true")
          w.u16(0)
          break
        case "networkErrorCode": {
          const { errorCode, networkType } = v as { networkType: number; errorCode: number }
          if ((errorCode & 0xffff) !== errorCode) throw new Refuse(key, "errorCode must be an integer 0–65535")
          w.u16(3)
          w.u8(checkU8(key, networkType))
          w.u16(errorCode)
          break
        }
        case "octets":
          if (!(v instanceof Uint8Array) || v.length < def.min || v.length > def.max) {
            throw new Refuse(key, `must be ${def.min}–${def.max} octets`)
          }
          w.u16(v.length)
          w.bytes(v)
          break
        case "cstring":
          if (typeof v !== "string") throw new Refuse(key, "must be a string")
          w.u16(v.length + 1)
          writeCstring(w, key, v, def.max)
          break
      }
      if (list === undefined || ++i === list.length) break
      v = list[i]
    }
  }
}

/**
 * Generates the body decoder of one PDU as straight-line code: one object literal of a
 * fixed shape per PDU (V8 keeps it monomorphic), fields read in declaration order. This
 * runs once per PDU kind at load; the generated code only calls the readers above.
 */
const generateDecoder = (
  tag: string,
  fields: ReadonlyArray<FieldCodec>,
  withTlvs: boolean,
  hasShortMessage: boolean
): PduCodec["decodeBody"] => {
  const lines: Array<string> = []
  const required = fields.filter((f) => !f.trailing)
  const trailing = fields.filter((f) => f.trailing)
  fields.forEach((f, i) => {
    const read = `dec[${i}](c)`
    lines.push(f.trailing ? `const f${i} = c.pos === c.end ? undefined : ${read};` : `const f${i} = ${read};`)
  })
  const literal = [
    `_tag: ${JSON.stringify(tag)}`,
    "commandStatus",
    "sequenceNumber",
    ...required.map((f) => `${f.name}: f${fields.indexOf(f)}`),
    ...(withTlvs ? ["tlvs: decodeTlvs(c)"] : [])
  ]
  lines.push(`const out = { ${literal.join(", ")} };`)
  for (const f of trailing) {
    const i = fields.indexOf(f)
    lines.push(`if (f${i} !== undefined) out.${f.name} = f${i};`)
  }
  if (withTlvs && hasShortMessage) {
    lines.push(`if (out.tlvs.messagePayload !== undefined && out.shortMessage.length > 0) throw bothMessages();`)
  }
  if (!withTlvs) lines.push(`if (c.pos !== c.end) throw noBody();`)
  lines.push("return out;")
  const factory = new Function(
    "dec",
    "decodeTlvs",
    "bothMessages",
    "noBody",
    `return function decode_${tag}(c, commandStatus, sequenceNumber) {\n${lines.join("\n")}\n}`
  )
  return factory(
    fields.map((f) => f.decode),
    decodeTlvs,
    () => badTlv(S.ESME_ROPTPARNOTALLWD, "messagePayload", "short_message and message_payload both present"),
    () => new Fail("InvalidCommandLength", S.ESME_RINVCMDLEN, undefined, `${tag} has no body`)
  )
}

/**
 * Generates the body encoder of a PDU without trailing fields as straight-line code: the
 * integer and C-Octet String fields are checked and written into the buffer in place;
 * octet fields and lists go through their codecs. PDUs with trailing (optional) fields
 * use the generic loop in `compile`.
 */
const generateEncoder = (
  tag: string,
  fields: ReadonlyArray<FieldCodec>,
  withTlvs: boolean,
  hasShortMessage: boolean
): PduCodec["encodeBody"] | undefined => {
  if (fields.some((f) => f.trailing)) return undefined
  const simpleSize = (f: FieldCodec): number =>
    f.wire.kind === "u8" ? 1 : f.wire.kind === "u32" ? 4 : f.wire.kind === "cstring" ? f.wire.max : 0
  const lines: Array<string> = ["let b, p, x, n, c;"]
  const reserve = (from: number) => {
    let size = 0
    for (let j = from; j < fields.length && simpleSize(fields[j]) > 0; j++) size += simpleSize(fields[j])
    lines.push(`w.ensure(${size}); b = w.buf; p = w.pos;`)
  }
  reserve(0)
  fields.forEach((f, i) => {
    const name = JSON.stringify(f.name)
    lines.push(`x = v[${name}];`)
    switch (f.wire.kind) {
      case "u8":
        lines.push(`if ((x & 0xff) !== x) throw refuse(${name}, "must be an integer 0–255");`, "b[p++] = x;")
        break
      case "u32":
        lines.push(
          `if ((x >>> 0) !== x) throw refuse(${name}, "must be an integer 0–4294967295");`,
          "b[p] = x >>> 24; b[p + 1] = x >>> 16; b[p + 2] = x >>> 8; b[p + 3] = x; p += 4;"
        )
        break
      case "cstring": {
        const { max, sizes } = f.wire
        lines.push(
          `if (typeof x !== "string") throw refuse(${name}, "must be a string");`,
          "n = x.length;",
          `if (n > ${max - 1}) throw refuse(${name}, "longer than ${max - 1} characters");`,
          ...(sizes === undefined ? [] : [
            `if (${sizes.map((size) => `n !== ${size - 1}`).join(" && ")}) throw refuse(${name}, ${
              JSON.stringify(`must be ${sizes.map((size) => size - 1).join(" or ")} characters`)
            });`
          ]),
          `for (let i = 0; i < n; i++) { c = x.charCodeAt(i); if (c === 0 || c > 0xff) throw refuse(${name}, "characters must be 0x01–0xFF"); b[p++] = c; }`,
          "b[p++] = 0;"
        )
        break
      }
      default:
        lines.push(`w.pos = p; enc[${i}](w, x);`)
        reserve(i + 1)
    }
  })
  lines.push("w.pos = p;")
  if (withTlvs) {
    lines.push("x = v.tlvs;", "if (x !== undefined) {")
    if (hasShortMessage) {
      lines.push(
        `if (x.messagePayload !== undefined && v.shortMessage.length > 0) throw refuse("messagePayload", "short_message and message_payload both present");`
      )
    }
    lines.push("encodeTlvs(w, x);", "}")
  }
  const factory = new Function(
    "enc",
    "encodeTlvs",
    "refuse",
    `return function encode_${tag}(w, v) {\n${lines.join("\n")}\n}`
  )
  return factory(
    fields.map((f) => f.encode),
    encodeTlvs,
    (field: string, detail: string) => new Refuse(field, detail)
  )
}

const headerFields = new Set(["_tag", "commandStatus", "sequenceNumber", "tlvs"])

const isEmpty = (tlvs: unknown): boolean => {
  for (const key in tlvs as object) {
    if ((tlvs as Record<string, unknown>)[key] !== undefined) return false
  }
  return true
}

export const compile = (schema: Schema.Schema.AnyNoContext): PduCodec => {
  const ast = schema.ast as SchemaAST.TypeLiteral
  const pdu = pduWireOf(ast)
  if (pdu === undefined) throw new Error(`${String(ast)} is not a PDU declaration`)
  const tagSignature = ast.propertySignatures.find((ps) => ps.name === "_tag")!
  const tag = String((tagSignature.type as SchemaAST.Literal).literal)
  const fields = ast.propertySignatures
    .filter((ps) => !headerFields.has(String(ps.name)))
    .map((ps) => {
      const wire = wireOf(ps.type)
      if (wire === undefined) throw new Error(`${tag}.${String(ps.name)} has no wire layout`)
      return fieldCodec(String(ps.name), wire, ps.isOptional)
    })
  const hasShortMessage = fields.some((f) => f.name === "shortMessage")
  const withTlvs = pdu.tlvs

  const decodeBody = generateDecoder(tag, fields, withTlvs, hasShortMessage)

  const encodeBody = generateEncoder(tag, fields, withTlvs, hasShortMessage) ?? ((w: ByteWriter, value: Record<string, unknown>): void => {
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]
      const v = value[f.name]
      if (v === undefined) {
        if (!f.trailing) throw new Refuse(f.name, "is missing")
        for (let j = i + 1; j < fields.length; j++) {
          if (value[fields[j].name] !== undefined) throw new Refuse(fields[j].name, `is given without ${f.name}`)
        }
        if (withTlvs && !isEmpty(value.tlvs)) throw new Refuse("tlvs", `are given without ${f.name}`)
        return
      }
      f.encode(w, v)
    }
    if (withTlvs && value.tlvs !== undefined) {
      const tlvs = value.tlvs as Record<string, unknown>
      if (hasShortMessage && tlvs.messagePayload !== undefined && (value.shortMessage as Uint8Array).length > 0) {
        throw new Refuse("messagePayload", "short_message and message_payload both present")
      }
      encodeTlvs(w, tlvs)
    }
  })

  return { tag, commandId: pdu.commandId, decodeBody, encodeBody }
}
