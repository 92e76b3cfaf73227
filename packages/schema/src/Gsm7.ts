/**
 * The GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table.
 *
 * SMPP carries data_coding 0 text *unpacked*: one septet per octet in short_message.
 * `pack` / `unpack` give the 7-bit packed form of the air interface, with the fill bits
 * that align the first septet after a User Data Header.
 *
 * Decoding is tolerant and never fails:
 * - an octet above 0x7F (not a septet) decodes to `?`;
 * - an escape followed by a septet that has no extension character decodes to that
 *   septet's character in the default table (as TS 23.038 asks of a receiver);
 * - escape followed by escape, or an escape at the very end, decodes to a space
 *   (TS 23.038: "display a space until another extension table is defined").
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { characterAt, fromCharCodes } from "./internal/charCodes.js"

/**
 * The escape septet that announces a character of the extension table.
 *
 * @since 0.1.0
 * @category constants
 */
export const ESCAPE = 0x1b

/**
 * The default alphabet, indexed by septet. Position 0x1B is the escape, not a character.
 *
 * @since 0.1.0
 * @category constants
 */
export const BASIC_TABLE: string = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ" +
  " !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

/**
 * The extension table: septet (sent after {@link ESCAPE}) → character.
 *
 * @since 0.1.0
 * @category constants
 */
export const EXTENSION_TABLE: ReadonlyMap<number, string> = new Map([
  [0x0a, "\f"],
  [0x14, "^"],
  [0x28, "{"],
  [0x29, "}"],
  [0x2f, "\\"],
  [0x3c, "["],
  [0x3d, "~"],
  [0x3e, "]"],
  [0x40, "|"],
  [0x65, "€"]
])

const EURO = 0x20ac
const EURO_SEPTET = 0x65
// Every character of both tables except € is below U+0400: a small array, no hashing.
// Entry: septet for the default table, 0x80 | septet for the extension table, -1 none.
const LOOKUP_SIZE = 0x400
const LOOKUP = new Int16Array(LOOKUP_SIZE).fill(-1)
for (let septet = 0; septet < 128; septet++) {
  if (septet !== ESCAPE) LOOKUP[BASIC_TABLE.charCodeAt(septet)] = septet
}
for (const [septet, char] of EXTENSION_TABLE) {
  const code = char.charCodeAt(0)
  if (code < LOOKUP_SIZE) LOOKUP[code] = 0x80 | septet
}

// Septet → UTF-16 code unit, for decoding.
const BASIC_CODES = new Uint16Array(128)
for (let septet = 0; septet < 128; septet++) BASIC_CODES[septet] = BASIC_TABLE.charCodeAt(septet)
BASIC_CODES[ESCAPE] = 0x20
const EXTENSION_CODES = new Uint16Array(BASIC_CODES)
for (const [septet, char] of EXTENSION_TABLE) EXTENSION_CODES[septet] = char.charCodeAt(0)
EXTENSION_CODES[ESCAPE] = 0x20

const QUESTION_MARK = 0x3f

/**
 * Returned by {@link encode} when a character is in neither table.
 *
 * @since 0.1.0
 * @category errors
 */
export class Gsm7Error extends Data.TaggedError("Gsm7Error")<{
  readonly reason: "UnencodableCharacter"
  /** The first character that does not fit (a whole surrogate pair when it is one). */
  readonly character: string
  /** Its index (UTF-16 code units) in the input. */
  readonly index: number
  readonly message: string
}> {}

/**
 * How many septets a UTF-16 code unit takes: 1 (default table), 2 (escape + extension
 * table) or 0 when it is in neither.
 *
 * @since 0.1.0
 * @category utils
 */
export const septetsOf = (code: number): 0 | 1 | 2 => {
  if (code < LOOKUP_SIZE) {
    const entry = LOOKUP[code]
    return entry < 0 ? 0 : entry < 0x80 ? 1 : 2
  }
  return code === EURO ? 2 : 0
}

/**
 * The index of the first code unit that fits neither table, or -1 when all of `text` fits.
 *
 * @since 0.1.0
 * @category utils
 */
export const firstUnencodable = (text: string): number => {
  for (let i = 0; i < text.length; i++) {
    if (septetsOf(text.charCodeAt(i)) === 0) return i
  }
  return -1
}

/**
 * Whether every character of `text` is in the default or the extension table.
 *
 * @since 0.1.0
 * @category guards
 */
export const isEncodable = (text: string): boolean => firstUnencodable(text) === -1

/**
 * The number of septets `text` takes (extension characters count two), or none when a
 * character does not fit.
 *
 * @since 0.1.0
 * @category utils
 */
export const countSeptets = (text: string): Option.Option<number> => {
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const n = septetsOf(text.charCodeAt(i))
    if (n === 0) return Option.none()
    count += n
  }
  return Option.some(count)
}

const unencodable = (text: string, index: number): Gsm7Error => {
  const character = characterAt(text, index)
  const hex = character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")
  return new Gsm7Error({
    reason: "UnencodableCharacter",
    character,
    index,
    message: `Character ${JSON.stringify(character)} (U+${hex}) at index ${index} is not in the GSM 03.38 alphabet`
  })
}

/**
 * Encodes `text` as unpacked septets (one per octet, as SMPP's short_message carries
 * them); extension characters become escape + septet.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (text: string): Either.Either<Uint8Array, Gsm7Error> => {
  let length = 0
  for (let i = 0; i < text.length; i++) {
    const n = septetsOf(text.charCodeAt(i))
    if (n === 0) return Either.left(unencodable(text, i))
    length += n
  }
  const out = new Uint8Array(length)
  let j = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const entry = code < LOOKUP_SIZE ? LOOKUP[code] : 0x80 | EURO_SEPTET
    if (entry < 0x80) {
      out[j++] = entry
    } else {
      out[j++] = ESCAPE
      out[j++] = entry & 0x7f
    }
  }
  return Either.right(out)
}

/**
 * Decodes unpacked septets (one per octet). Never fails; see the module notes for how
 * unknown septets are shown.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (septets: Uint8Array): string => {
  const codes = new Uint16Array(septets.length)
  let j = 0
  for (let i = 0; i < septets.length; i++) {
    const septet = septets[i]
    if (septet > 0x7f) {
      codes[j++] = QUESTION_MARK
    } else if (septet !== ESCAPE) {
      codes[j++] = BASIC_CODES[septet]
    } else if (i + 1 < septets.length) {
      const next = septets[++i]
      codes[j++] = next > 0x7f ? QUESTION_MARK : EXTENSION_CODES[next]
    } else {
      codes[j++] = 0x20
    }
  }
  return fromCharCodes(codes, j)
}

/**
 * The number of octets that `septetCount` septets take when packed after `fillBits`.
 *
 * @since 0.1.0
 * @category utils
 */
export const packedLength = (septetCount: number, fillBits = 0): number => Math.ceil((fillBits + 7 * septetCount) / 8)

/**
 * The fill bits needed after a User Data Header of `udhOctets` octets (UDHL included) so
 * that the first septet starts on a septet boundary (TS 23.040 9.2.3.24).
 *
 * @since 0.1.0
 * @category utils
 */
export const fillBitsFor = (udhOctets: number): number => (7 - ((udhOctets * 8) % 7)) % 7

/**
 * Packs septets (the low 7 bits of each octet) into 7-bit form, least significant bit
 * first, starting after `fillBits` zero bits (0–6; use {@link fillBitsFor} after a UDH).
 *
 * @since 0.1.0
 * @category encoding
 */
export const pack = (septets: Uint8Array, fillBits = 0): Uint8Array => {
  const out = new Uint8Array(packedLength(septets.length, fillBits))
  let bit = fillBits
  for (let i = 0; i < septets.length; i++, bit += 7) {
    const septet = septets[i] & 0x7f
    const byte = bit >> 3
    const shift = bit & 7
    out[byte] |= (septet << shift) & 0xff
    if (shift > 1) out[byte + 1] |= septet >> (8 - shift)
  }
  return out
}

/**
 * Unpacks `septetCount` septets (one per octet) from packed `bytes` whose first septet
 * starts after `fillBits` bits. The count is clamped to what `bytes` can hold.
 *
 * @since 0.1.0
 * @category decoding
 */
export const unpack = (bytes: Uint8Array, septetCount: number, fillBits = 0): Uint8Array => {
  const available = Math.max(0, Math.floor((bytes.length * 8 - fillBits) / 7))
  const count = Math.max(0, Math.min(septetCount, available))
  const out = new Uint8Array(count)
  let bit = fillBits
  for (let i = 0; i < count; i++, bit += 7) {
    const byte = bit >> 3
    const shift = bit & 7
    let value = bytes[byte] >> shift
    if (shift > 1) value |= bytes[byte + 1] << (8 - shift)
    out[i] = value & 0x7f
  }
  return out
}
