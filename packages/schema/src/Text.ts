/**
 * Text ↔ short_message octets for a data_coding:
 *
 * | data_coding | alphabet | octets |
 * | --- | --- | --- |
 * | 0 (and GSM 7-bit coding groups) | GSM 03.38 | unpacked septets, one per octet |
 * | 1 | IA5 / ASCII | one per character, U+0000–U+007F |
 * | 3 | Latin-1 | one per character, U+0000–U+00FF |
 * | 8 (and UCS-2 coding groups) | UCS-2 | UTF-16BE code units; surrogate pairs kept intact |
 * | 2, 4 and all others | octets | one per character, U+0000–U+00FF (pass through) |
 *
 * Octet codings map each octet to the character of the same code (Latin-1), so binary
 * data survives `decode` then `encode` unchanged. Decoding never fails: IA5 octets above
 * 0x7F decode as Latin-1, a trailing odd UCS-2 octet as U+FFFD, GSM as described in
 * {@link Gsm7}.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as DataCoding from "./DataCoding.js"
import * as Gsm7 from "./Gsm7.js"
import { characterAt, fromCharCodes } from "./internal/charCodes.js"

/**
 * A character that the chosen data_coding cannot carry.
 *
 * @since 0.1.0
 * @category errors
 */
export class TextError extends Data.TaggedError("TextError")<{
  readonly reason: "UnencodableCharacter"
  readonly dataCoding: number
  /** The first character that does not fit (a whole surrogate pair when it is one). */
  readonly character: string
  /** Its index (UTF-16 code units) in the input. */
  readonly index: number
  readonly message: string
}> {}

const unencodable = (text: string, index: number, dataCoding: number, alphabet: string): TextError => {
  const character = characterAt(text, index)
  const hex = character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")
  return new TextError({
    reason: "UnencodableCharacter",
    dataCoding,
    character,
    index,
    message: `Character ${JSON.stringify(character)} (U+${hex}) at index ${index} cannot be encoded in ` +
      `data_coding ${dataCoding} (${alphabet})`
  })
}

const encodeOctets = (text: string, max: number, dataCoding: number, alphabet: string) => {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code > max) return Either.left(unencodable(text, i, dataCoding, alphabet))
    out[i] = code
  }
  return Either.right(out)
}

/**
 * UTF-16BE code units of `text`, surrogates included as they are. Never fails.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeUcs2 = (text: string): Uint8Array => {
  const out = new Uint8Array(text.length * 2)
  for (let i = 0, j = 0; i < text.length; i++, j += 2) {
    const code = text.charCodeAt(i)
    out[j] = code >> 8
    out[j + 1] = code & 0xff
  }
  return out
}

/**
 * Text from UTF-16BE octets; a trailing odd octet becomes U+FFFD.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeUcs2 = (bytes: Uint8Array): string => {
  const units = bytes.length >> 1
  const odd = (bytes.length & 1) === 1
  const codes = new Uint16Array(units + (odd ? 1 : 0))
  for (let i = 0, j = 0; i < units; i++, j += 2) codes[i] = (bytes[j] << 8) | bytes[j + 1]
  if (odd) codes[units] = 0xfffd
  return fromCharCodes(codes, codes.length)
}

/**
 * Text from octets, one character per octet (Latin-1 / pass through).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeLatin1 = (bytes: Uint8Array): string => {
  const codes = new Uint16Array(bytes)
  return fromCharCodes(codes, codes.length)
}

/**
 * Encodes `text` for `dataCoding`, or fails naming the first character that does not fit.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (text: string, dataCoding: number): Either.Either<Uint8Array, TextError> => {
  switch (DataCoding.alphabet(dataCoding)) {
    case "Gsm7":
      return Either.mapLeft(Gsm7.encode(text), (e) => unencodable(text, e.index, dataCoding, "GSM 03.38"))
    case "Ucs2":
      return Either.right(encodeUcs2(text))
    case "Ia5":
      return encodeOctets(text, 0x7f, dataCoding, "IA5/ASCII")
    case "Latin1":
      return encodeOctets(text, 0xff, dataCoding, "Latin-1")
    case "Octet":
      return encodeOctets(text, 0xff, dataCoding, "octets")
  }
}

/**
 * Decodes short_message octets (without any UDH) for `dataCoding`. Never fails.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (bytes: Uint8Array, dataCoding: number): string => {
  switch (DataCoding.alphabet(dataCoding)) {
    case "Gsm7":
      return Gsm7.decode(bytes)
    case "Ucs2":
      return decodeUcs2(bytes)
    case "Ia5":
    case "Latin1":
    case "Octet":
      return decodeLatin1(bytes)
  }
}
