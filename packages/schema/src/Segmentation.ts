/**
 * Splitting long text into SMPP messages.
 *
 * Capacities, in the units of the alphabet (GSM septets — carried unpacked, one per
 * octet —, UCS-2 code units, or octets), follow the 140-octet air-interface user data
 * that providers apply:
 *
 * | alphabet | single | per part, `udh8` | per part, `udh16` | per part, `sar` |
 * | --- | --- | --- | --- | --- |
 * | GSM 03.38 | 160 | 153 | 152 | 160 |
 * | UCS-2 | 70 | 67 | 66 | 70 |
 * | IA5, Latin-1, octets | 140 | 134 | 133 | 140 |
 *
 * An extension character (escape + septet) and a surrogate pair are never cut across
 * two parts. Text that fits one message is sent as one, without UDH or SAR values. The
 * `payload` method never splits: the one part is meant for the message_payload TLV.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as DataCoding from "./DataCoding.js"
import * as Gsm7 from "./Gsm7.js"
import * as Text from "./Text.js"
import * as Udh from "./Udh.js"

/**
 * How the parts of a long message are tied together.
 *
 * - `udh8` / `udh16`: a concatenation UDH (8- / 16-bit reference) at the start of each
 *   short_message, esm_class UDHI set;
 * - `sar`: sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs;
 * - `payload`: no splitting, the whole text in one message_payload.
 *
 * @since 0.1.0
 * @category models
 */
export type Method = "udh8" | "udh16" | "sar" | "payload"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `auto` (the default) picks GSM 03.38 when it can carry the text, else UCS-2. */
  readonly dataCoding?: number | "auto" | undefined
  /** Default `udh8`. */
  readonly method?: Method | undefined
  /** Concatenation reference shared by the parts (masked to 8 or 16 bits). Default 0. */
  readonly reference?: number | undefined
}

/**
 * The values of the SAR TLVs of one part.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sar {
  readonly refNum: number
  readonly total: number
  readonly seqNum: number
}

/**
 * One message to send.
 *
 * @since 0.1.0
 * @category models
 */
export interface Part {
  /** short_message (or message_payload for the `payload` method); UDH included. */
  readonly shortMessage: Uint8Array
  /** Whether esm_class must carry UDHI (0x40). */
  readonly esmClassUdhi: boolean
  readonly dataCoding: number
  /** Present on the parts of a message split with the `sar` method. */
  readonly sar?: Sar
}

/**
 * @since 0.1.0
 * @category errors
 */
export class SegmentationError extends Data.TaggedError("SegmentationError")<{
  readonly reason: "TooManyParts" | "PayloadTooLong"
  readonly message: string
}> {}

/**
 * At most this many parts: the total is one octet in the UDH and in sar_total_segments.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_PARTS = 255

/**
 * At most this many octets in message_payload (a TLV length is two octets).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_PAYLOAD = 0xffff

const USER_DATA_OCTETS = 140

/**
 * Capacity of one message (`single`) and of each part of a split message (`perPart`),
 * in units of the alphabet.
 *
 * @since 0.1.0
 * @category utils
 */
export const limits = (
  alphabet: DataCoding.Alphabet,
  method: Method
): { readonly single: number; readonly perPart: number } => {
  if (method === "payload") {
    const units = alphabet === "Ucs2" ? MAX_PAYLOAD >> 1 : MAX_PAYLOAD
    return { single: units, perPart: units }
  }
  const header = method === "udh8" ? Udh.concatHeaderLength(8) : method === "udh16" ? Udh.concatHeaderLength(16) : 0
  return { single: unitsIn(alphabet, USER_DATA_OCTETS), perPart: unitsIn(alphabet, USER_DATA_OCTETS - header) }
}

const unitsIn = (alphabet: DataCoding.Alphabet, octets: number): number =>
  alphabet === "Gsm7" ? Math.floor((octets * 8) / 7) : alphabet === "Ucs2" ? octets >> 1 : octets

// Octets per unit in short_message (GSM septets are carried unpacked).
const unitOctets = (alphabet: DataCoding.Alphabet): number => (alphabet === "Ucs2" ? 2 : 1)

// Octets of the indivisible run starting at `i`: escape + septet, or a surrogate pair.
const atomAt = (bytes: Uint8Array, i: number, alphabet: DataCoding.Alphabet): number => {
  if (alphabet === "Gsm7") return bytes[i] === Gsm7.ESCAPE && i + 1 < bytes.length ? 2 : 1
  if (alphabet === "Ucs2") {
    if (i + 1 >= bytes.length) return 1
    const hi = bytes[i]
    if (hi >= 0xd8 && hi <= 0xdb && i + 3 < bytes.length && bytes[i + 2] >= 0xdc && bytes[i + 2] <= 0xdf) return 4
    return 2
  }
  return 1
}

// End offset of the part that starts at `start` and holds at most `capacity` octets.
const partEnd = (bytes: Uint8Array, start: number, capacity: number, alphabet: DataCoding.Alphabet): number => {
  if (alphabet !== "Gsm7" && alphabet !== "Ucs2") return Math.min(bytes.length, start + capacity)
  const limit = start + capacity
  let i = start
  while (i < bytes.length) {
    const next = i + atomAt(bytes, i, alphabet)
    if (next > limit) break
    i = next
  }
  return i
}

const resolveDataCoding = (text: string, options: Options | undefined): number => {
  const dataCoding = options?.dataCoding ?? "auto"
  return dataCoding === "auto" ? DataCoding.choose(text) : dataCoding
}

/**
 * Splits already encoded user data (unpacked GSM septets, UCS-2 octets, or octets) for
 * `dataCoding`, with the same rules as {@link split}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const splitBytes = (
  bytes: Uint8Array,
  dataCoding: number,
  options?: Omit<Options, "dataCoding">
): Either.Either<ReadonlyArray<Part>, SegmentationError> => {
  const method = options?.method ?? "udh8"
  const reference = options?.reference ?? 0
  const alphabet = DataCoding.alphabet(dataCoding)
  const { perPart, single } = limits(alphabet, method)
  const octetsPer = unitOctets(alphabet)
  if (method === "payload") {
    if (bytes.length > MAX_PAYLOAD) {
      return Either.left(
        new SegmentationError({
          reason: "PayloadTooLong",
          message: `${bytes.length} octets do not fit message_payload (max ${MAX_PAYLOAD})`
        })
      )
    }
    return Either.right([{ shortMessage: bytes, esmClassUdhi: false, dataCoding }])
  }
  if (bytes.length <= single * octetsPer) {
    return Either.right([{ shortMessage: bytes, esmClassUdhi: false, dataCoding }])
  }
  const capacity = perPart * octetsPer
  const ends: Array<number> = []
  for (let start = 0; start < bytes.length;) {
    const end = partEnd(bytes, start, capacity, alphabet)
    ends.push(end)
    if (ends.length > MAX_PARTS) {
      return Either.left(
        new SegmentationError({
          reason: "TooManyParts",
          message: `The message needs more than ${MAX_PARTS} parts`
        })
      )
    }
    start = end
  }
  const total = ends.length
  const parts: Array<Part> = new Array(total)
  if (method === "sar") {
    const refNum = reference & 0xffff
    for (let k = 0, start = 0; k < total; start = ends[k], k++) {
      parts[k] = {
        shortMessage: bytes.slice(start, ends[k]),
        esmClassUdhi: false,
        dataCoding,
        sar: { refNum, total, seqNum: k + 1 }
      }
    }
    return Either.right(parts)
  }
  const referenceBits = method === "udh8" ? 8 : 16
  const header = Udh.concatHeaderLength(referenceBits)
  const ref = reference & (referenceBits === 8 ? 0xff : 0xffff)
  for (let k = 0, start = 0; k < total; start = ends[k], k++) {
    const shortMessage = new Uint8Array(header + ends[k] - start)
    Udh.writeConcat(shortMessage, 0, { reference: ref, total, seqNum: k + 1, referenceBits })
    shortMessage.set(bytes.subarray(start, ends[k]), header)
    parts[k] = { shortMessage, esmClassUdhi: true, dataCoding }
  }
  return Either.right(parts)
}

/**
 * Encodes `text` and splits it into the messages to send. Pure: the concatenation
 * reference comes from `options.reference`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const split = (
  text: string,
  options?: Options
): Either.Either<ReadonlyArray<Part>, Text.TextError | SegmentationError> => {
  const dataCoding = resolveDataCoding(text, options)
  return Either.flatMap(Text.encode(text, dataCoding), (bytes) => splitBytes(bytes, dataCoding, options))
}

/**
 * What an SMS counter shows for a text.
 *
 * @since 0.1.0
 * @category models
 */
export interface Count {
  readonly dataCoding: number
  readonly alphabet: DataCoding.Alphabet
  /** Units used by the whole text: septets, UCS-2 code units or octets. */
  readonly units: number
  /** Messages needed (may exceed {@link MAX_PARTS}, which {@link split} refuses). */
  readonly parts: number
  /** Capacity of each message, in units: the single-message one when `parts` is 1. */
  readonly perPart: number
  /** Units still free in the last message. */
  readonly remaining: number
}

/**
 * Counts the messages `text` needs, without building them.
 *
 * @since 0.1.0
 * @category utils
 */
export const count = (text: string, options?: Options): Either.Either<Count, Text.TextError> => {
  const dataCoding = resolveDataCoding(text, options)
  const method = options?.method ?? "udh8"
  const alphabet = DataCoding.alphabet(dataCoding)
  const { perPart, single } = limits(alphabet, method)
  const octetsPer = unitOctets(alphabet)
  return Either.map(Text.encode(text, dataCoding), (bytes): Count => {
    const units = Math.ceil(bytes.length / octetsPer)
    if (units <= single || method === "payload") {
      return { dataCoding, alphabet, units, parts: 1, perPart: single, remaining: Math.max(0, single - units) }
    }
    const capacity = perPart * octetsPer
    let parts = 0
    let last = 0
    for (let start = 0; start < bytes.length;) {
      const end = partEnd(bytes, start, capacity, alphabet)
      parts++
      last = end - start
      start = end
    }
    return { dataCoding, alphabet, units, parts, perPart, remaining: perPart - Math.ceil(last / octetsPer) }
  })
}
