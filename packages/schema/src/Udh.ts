/**
 * The User Data Header (TS 23.040 9.2.3.24) at the start of a short_message whose
 * esm_class has UDHI (0x40) set: UDHL (one octet: length of what follows), then
 * information elements `IEI, IEDL, data`.
 *
 * Concatenation (IEI 0x00, 8-bit reference; IEI 0x08, 16-bit reference) is read into a
 * {@link Concat}; every element, concatenation included, is also kept raw and in order, so
 * `build(parse(x).elements)` gives back the header of `x` octet for octet.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"

/**
 * Information element identifiers this module knows by name; others are kept raw.
 *
 * @since 0.1.0
 * @category constants
 */
export const IEI = {
  CONCAT_8: 0x00,
  PORTS_8: 0x04,
  PORTS_16: 0x05,
  CONCAT_16: 0x08
} as const

/**
 * The UDH length of one concatenation element, UDHL included: 6 octets with an 8-bit
 * reference, 7 with a 16-bit one.
 *
 * @since 0.1.0
 * @category utils
 */
export const concatHeaderLength = (referenceBits: 8 | 16): 6 | 7 => (referenceBits === 8 ? 6 : 7)

/**
 * @since 0.1.0
 * @category models
 */
export interface InformationElement {
  readonly iei: number
  readonly data: Uint8Array
}

/**
 * Which part of a concatenated message this is. `seqNum` counts from 1 to `total`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Concat {
  readonly reference: number
  readonly total: number
  readonly seqNum: number
  readonly referenceBits: 8 | 16
}

/**
 * A short_message split into its header and the user data after it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Parsed {
  readonly elements: ReadonlyArray<InformationElement>
  /** Present when a well-formed concatenation element is in the header. */
  readonly concat?: Concat
  /** Octets of the header, UDHL included. */
  readonly headerLength: number
  /** The user data after the header (a view, not a copy). */
  readonly payload: Uint8Array
}

/**
 * @since 0.1.0
 * @category errors
 */
export class UdhError extends Data.TaggedError("UdhError")<{
  readonly reason: "MissingHeader" | "HeaderTooLong" | "TruncatedElement" | "ElementTooLong"
  readonly message: string
}> {}

/**
 * The concatenation element of well-formed `data`, or undefined (wrong length, total 0,
 * sequence number outside 1…total: TS 23.040 asks such an element to be ignored).
 *
 * @since 0.1.0
 * @category utils
 */
export const concatOf = (element: InformationElement): Concat | undefined => {
  const data = element.data
  let concat: Concat | undefined
  if (element.iei === IEI.CONCAT_8 && data.length === 3) {
    concat = { reference: data[0], total: data[1], seqNum: data[2], referenceBits: 8 }
  } else if (element.iei === IEI.CONCAT_16 && data.length === 4) {
    concat = { reference: (data[0] << 8) | data[1], total: data[2], seqNum: data[3], referenceBits: 16 }
  }
  return concat !== undefined && concat.total >= 1 && concat.seqNum >= 1 && concat.seqNum <= concat.total
    ? concat
    : undefined
}

/**
 * Reads the header at the start of `shortMessage`. When several concatenation elements
 * are present the last well-formed one wins (TS 23.040: a repeated element's last
 * occurrence is used).
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (shortMessage: Uint8Array): Either.Either<Parsed, UdhError> => {
  if (shortMessage.length === 0) {
    return Either.left(new UdhError({ reason: "MissingHeader", message: "UDHI is set but short_message is empty" }))
  }
  const udhl = shortMessage[0]
  const end = 1 + udhl
  if (end > shortMessage.length) {
    return Either.left(
      new UdhError({
        reason: "HeaderTooLong",
        message: `UDHL ${udhl} exceeds the ${shortMessage.length - 1} octets that follow it`
      })
    )
  }
  const elements: Array<InformationElement> = []
  let concat: Concat | undefined
  let i = 1
  while (i < end) {
    if (i + 2 > end || i + 2 + shortMessage[i + 1] > end) {
      return Either.left(
        new UdhError({ reason: "TruncatedElement", message: `Information element at octet ${i} runs past the UDH` })
      )
    }
    const element: InformationElement = {
      iei: shortMessage[i],
      data: shortMessage.subarray(i + 2, i + 2 + shortMessage[i + 1])
    }
    elements.push(element)
    concat = concatOf(element) ?? concat
    i += 2 + element.data.length
  }
  const payload = shortMessage.subarray(end)
  return Either.right(
    concat === undefined
      ? { elements, headerLength: end, payload }
      : { elements, concat, headerLength: end, payload }
  )
}

/**
 * The concatenation element for `concat` (IEI 0x00 or 0x08 by `referenceBits`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const concatElement = (concat: Concat): InformationElement =>
  concat.referenceBits === 8
    ? { iei: IEI.CONCAT_8, data: Uint8Array.of(concat.reference & 0xff, concat.total, concat.seqNum) }
    : {
      iei: IEI.CONCAT_16,
      data: Uint8Array.of((concat.reference >> 8) & 0xff, concat.reference & 0xff, concat.total, concat.seqNum)
    }

/**
 * Writes a header holding only the concatenation element into `target` at `offset`;
 * returns the number of octets written ({@link concatHeaderLength}).
 *
 * @since 0.1.0
 * @category encoding
 */
export const writeConcat = (target: Uint8Array, offset: number, concat: Concat): number => {
  if (concat.referenceBits === 8) {
    target[offset] = 5
    target[offset + 1] = IEI.CONCAT_8
    target[offset + 2] = 3
    target[offset + 3] = concat.reference & 0xff
    target[offset + 4] = concat.total
    target[offset + 5] = concat.seqNum
    return 6
  }
  target[offset] = 6
  target[offset + 1] = IEI.CONCAT_16
  target[offset + 2] = 4
  target[offset + 3] = (concat.reference >> 8) & 0xff
  target[offset + 4] = concat.reference & 0xff
  target[offset + 5] = concat.total
  target[offset + 6] = concat.seqNum
  return 7
}

/**
 * The header (UDHL included) for `elements`, in the order given.
 *
 * @since 0.1.0
 * @category encoding
 */
export const build = (elements: ReadonlyArray<InformationElement>): Either.Either<Uint8Array, UdhError> => {
  let length = 0
  for (const element of elements) {
    if (element.data.length > 0xff) {
      return Either.left(
        new UdhError({
          reason: "ElementTooLong",
          message: `Information element 0x${element.iei.toString(16)} has ${element.data.length} octets (max 255)`
        })
      )
    }
    length += 2 + element.data.length
  }
  if (length > 0xff) {
    return Either.left(new UdhError({ reason: "HeaderTooLong", message: `UDH of ${length} octets (max 255)` }))
  }
  const out = new Uint8Array(1 + length)
  out[0] = length
  let i = 1
  for (const element of elements) {
    out[i] = element.iei
    out[i + 1] = element.data.length
    out.set(element.data, i + 2)
    i += 2 + element.data.length
  }
  return Either.right(out)
}
