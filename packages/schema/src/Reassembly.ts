/**
 * Reassembly of concatenated messages on the receiving side, as a pure accumulator:
 * `add(state, part)` returns the next state and, when the last missing part arrived,
 * the whole message. Parts may come in any order; a part already held is ignored and
 * reported as a duplicate.
 *
 * There are no timers here: a caller that wants to expire old partial messages keeps
 * its own clock, passes `receivedAt` with each part if it likes, and calls
 * {@link olderThan} / {@link drop}.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import type * as Segmentation from "./Segmentation.js"
import * as Text from "./Text.js"
import * as Udh from "./Udh.js"

/**
 * One received part. `key` identifies the message it belongs to; build it with
 * {@link key} from the source, the destination and the reference.
 *
 * @since 0.1.0
 * @category models
 */
export interface Part {
  readonly key: string
  readonly total: number
  readonly seqNum: number
  /** The user data of this part, without UDH. */
  readonly payload: Uint8Array
  readonly dataCoding: number
  /** When the part was received, in the caller's clock (e.g. epoch milliseconds). */
  readonly receivedAt?: number
}

/**
 * A reassembled message.
 *
 * @since 0.1.0
 * @category models
 */
export interface Message {
  readonly key: string
  readonly total: number
  readonly dataCoding: number
  /** The parts' user data, concatenated in order. */
  readonly payload: Uint8Array
  /** `payload` decoded for `dataCoding`. */
  readonly text: string
}

interface Pending {
  readonly total: number
  readonly dataCoding: number
  readonly received: number
  readonly octets: number
  readonly parts: ReadonlyArray<Uint8Array | undefined>
  readonly receivedAt: number | undefined
}

/**
 * The partial messages held, by key.
 *
 * @since 0.1.0
 * @category models
 */
export interface State {
  readonly pending: HashMap.HashMap<string, Pending>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const empty: State = { pending: HashMap.empty() }

/**
 * What {@link add} did with a part:
 * - `Pending`: stored, parts still missing;
 * - `Completed`: it was the last missing part (`completed` holds the message);
 * - `Duplicate`: that part was already held; ignored;
 * - `Restarted`: a partial message with the same key but another total was held (a reused
 *   reference); it was dropped and this part starts a new one;
 * - `Invalid`: total outside 1–255 or seqNum outside 1…total; ignored.
 *
 * @since 0.1.0
 * @category models
 */
export type Status = "Pending" | "Completed" | "Duplicate" | "Restarted" | "Invalid"

/**
 * @since 0.1.0
 * @category models
 */
export interface AddResult {
  readonly state: State
  readonly status: Status
  readonly completed?: Message
}

/**
 * The key of a part: source and destination addresses and the concatenation reference.
 *
 * @since 0.1.0
 * @category constructors
 */
export const key = (source: string, destination: string, reference: number): string =>
  `${source}\u0000${destination}\u0000${reference}`

const complete = (key: string, pending: Pending): Message => {
  const payload = new Uint8Array(pending.octets)
  let offset = 0
  for (const part of pending.parts) {
    payload.set(part!, offset)
    offset += part!.length
  }
  const { dataCoding, total } = pending
  return { key, total, dataCoding, payload, text: Text.decode(payload, dataCoding) }
}

const start = (part: Part): Pending => {
  const parts = new Array<Uint8Array | undefined>(part.total).fill(undefined)
  parts[part.seqNum - 1] = part.payload
  return {
    total: part.total,
    dataCoding: part.dataCoding,
    received: 1,
    octets: part.payload.length,
    parts,
    receivedAt: part.receivedAt
  }
}

/**
 * Adds a received part.
 *
 * @since 0.1.0
 * @category combinators
 */
export const add = (state: State, part: Part): AddResult => {
  const { seqNum, total } = part
  const valid = Number.isInteger(total) && Number.isInteger(seqNum) && total >= 1 && total <= 255 &&
    seqNum >= 1 && seqNum <= total
  if (!valid) {
    return { state, status: "Invalid" }
  }
  // A one-part message needs no state, and leaves any partial one under its key alone.
  if (total === 1) return { state, status: "Completed", completed: complete(part.key, start(part)) }
  const held = HashMap.get(state.pending, part.key)
  if (Option.isNone(held) || held.value.total !== total) {
    const status: Status = Option.isSome(held) ? "Restarted" : "Pending"
    return { state: { pending: HashMap.set(state.pending, part.key, start(part)) }, status }
  }
  const current = held.value
  if (current.parts[seqNum - 1] !== undefined) return { state, status: "Duplicate" }
  const parts = current.parts.slice()
  parts[seqNum - 1] = part.payload
  const next: Pending = {
    total,
    dataCoding: current.dataCoding,
    received: current.received + 1,
    octets: current.octets + part.payload.length,
    parts,
    receivedAt: current.receivedAt
  }
  if (next.received === total) {
    return {
      state: { pending: HashMap.remove(state.pending, part.key) },
      status: "Completed",
      completed: complete(part.key, next)
    }
  }
  return { state: { pending: HashMap.set(state.pending, part.key, next) }, status: "Pending" }
}

/**
 * The part numbers (1-based, ascending) still missing for `key`; empty when nothing is
 * held for it.
 *
 * @since 0.1.0
 * @category getters
 */
export const missing = (state: State, key: string): ReadonlyArray<number> => {
  const held = HashMap.get(state.pending, key)
  if (Option.isNone(held)) return []
  const out: Array<number> = []
  const parts = held.value.parts
  for (let i = 0; i < parts.length; i++) if (parts[i] === undefined) out.push(i + 1)
  return out
}

/**
 * Whether a partial message is held for `key`.
 *
 * @since 0.1.0
 * @category getters
 */
export const has = (state: State, key: string): boolean => HashMap.has(state.pending, key)

/**
 * Keys of the partial messages held.
 *
 * @since 0.1.0
 * @category getters
 */
export const keys = (state: State): ReadonlyArray<string> => Array.from(HashMap.keys(state.pending))

/**
 * Number of partial messages held.
 *
 * @since 0.1.0
 * @category getters
 */
export const size = (state: State): number => HashMap.size(state.pending)

/**
 * Keys of the partial messages whose first part was received before `time` (only those
 * added with `receivedAt`).
 *
 * @since 0.1.0
 * @category getters
 */
export const olderThan = (state: State, time: number): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (const [k, pending] of state.pending) {
    if (pending.receivedAt !== undefined && pending.receivedAt < time) out.push(k)
  }
  return out
}

/**
 * Forgets the partial message held for `key` (e.g. once it is too old).
 *
 * @since 0.1.0
 * @category combinators
 */
export const drop = (state: State, key: string): State =>
  HashMap.has(state.pending, key) ? { pending: HashMap.remove(state.pending, key) } : state

/**
 * Where a received short_message sits in a concatenated message, and its user data.
 *
 * @since 0.1.0
 * @category models
 */
export interface Extracted {
  /** Present when the message is one part of a concatenated message. */
  readonly concat?: Udh.Concat
  /** The user data, UDH removed. */
  readonly payload: Uint8Array
  /** The UDH's information elements (empty without UDHI), concatenation included. */
  readonly elements: ReadonlyArray<Udh.InformationElement>
}

/**
 * Reads the concatenation info of a received message: from its UDH when esm_class has
 * UDHI set, else from the SAR TLV values when given. A malformed UDH is an error; a
 * message that is not part of a concatenated one has no `concat`.
 *
 * @since 0.1.0
 * @category utils
 */
export const extract = (input: {
  readonly shortMessage: Uint8Array
  readonly udhi: boolean
  readonly sar?: Segmentation.Sar | undefined
}): Either.Either<Extracted, Udh.UdhError> => {
  if (input.udhi) {
    return Either.map(Udh.parse(input.shortMessage), (parsed): Extracted =>
      parsed.concat !== undefined
        ? { concat: parsed.concat, payload: parsed.payload, elements: parsed.elements }
        : { payload: parsed.payload, elements: parsed.elements })
  }
  const sar = input.sar
  if (sar !== undefined && sar.total >= 1 && sar.seqNum >= 1 && sar.seqNum <= sar.total) {
    return Either.right({
      concat: { reference: sar.refNum, total: sar.total, seqNum: sar.seqNum, referenceBits: 16 },
      payload: input.shortMessage,
      elements: []
    })
  }
  return Either.right({ payload: input.shortMessage, elements: [] })
}
