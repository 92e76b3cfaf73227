/**
 * Cuts a byte stream into SMPP PDUs by their command_length (pg-protocol style): a small
 * object with a cursor, fed chunk by chunk, handing out complete frames and keeping the rest.
 *
 * @since 0.1.0
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Data from "effect/Data"

/**
 * The SMPP header: command_length, command_id, command_status, sequence_number.
 *
 * @since 0.1.0
 * @category constants
 */
export const HEADER_LENGTH = 16

/**
 * The default largest command_length accepted.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_LENGTH = 65536

/**
 * Why the stream cannot be framed.
 *
 * @since 0.1.0
 * @category models
 */
export type FramingErrorReason =
  /** command_length below the 16 octets of the header. */
  | "CommandLengthTooShort"
  /** command_length above the configured maximum. */
  | "CommandLengthTooLong"

/**
 * A command_length the stream cannot be cut by. Fatal: there is no way to find the next
 * PDU, so the session answers generic_nack with `status` (ESME_RINVCMDLEN), using
 * `sequenceNumber` when the 16 header octets had arrived (else 0), and closes.
 *
 * @since 0.1.0
 * @category errors
 */
export class FramingError extends Data.TaggedError("FramingError")<{
  readonly reason: FramingErrorReason
  /** The command_length read, as an unsigned 32-bit number. */
  readonly commandLength: number
  /** The sequence_number of the bad PDU, when its 16 header octets were available. */
  readonly sequenceNumber: number | undefined
  readonly maxLength: number
  /** The command_status to answer with: ESME_RINVCMDLEN. */
  readonly status: number
}> {
  override get message(): string {
    return this.reason === "CommandLengthTooShort"
      ? `command_length ${this.commandLength} is below the ${HEADER_LENGTH}-octet header`
      : `command_length ${this.commandLength} is above the maximum of ${this.maxLength}`
  }
}

/**
 * What one `push` produced: the frames completed by the chunk, in order, then the framing
 * error, if the stream went bad after them. Process `frames` first, then act on `error`.
 *
 * @since 0.1.0
 * @category models
 */
export interface FramerResult {
  /**
   * Complete PDUs, each exactly command_length octets. A frame that lies inside the chunk
   * is a view of it (do not reuse the chunk's memory while frames are alive); a frame that
   * straddles chunks is a fresh copy owned by the caller.
   */
  readonly frames: ReadonlyArray<Uint8Array>
  /** Set once the stream cannot be framed; every later `push` returns it again, with no frames. */
  readonly error: FramingError | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FramerOptions {
  /** The largest command_length accepted, in octets (default 65536). */
  readonly maxLength?: number | undefined
}

/**
 * A stateful framer for one connection. Not shared between connections.
 *
 * @since 0.1.0
 * @category models
 */
export interface Framer {
  /** Feeds the next chunk of the stream. */
  readonly push: (chunk: Uint8Array) => FramerResult
  /** Octets held back: the start of a PDU whose rest has not arrived. */
  readonly buffered: number
  /** Octets copied so far (only frames straddling chunks are copied, each at most once). */
  readonly bytesCopied: number
  /** The error that stopped the framer, if any. */
  readonly error: FramingError | undefined
}

const NO_FRAMES: ReadonlyArray<Uint8Array> = []

const readU32 = (bytes: Uint8Array, at: number): number =>
  ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0

class FramerImpl implements Framer {
  readonly maxLength: number
  /** The first octets of a PDU whose command_length is not known yet (or is bad). */
  private head_: Uint8Array | undefined = undefined
  /** Made when a chunk ends inside a header: most sessions never need it. */
  private get head(): Uint8Array {
    return (this.head_ ??= new Uint8Array(HEADER_LENGTH))
  }
  private headLength = 0
  /** A PDU of known, valid length being filled across chunks. */
  private partial: Uint8Array | undefined = undefined
  private partialLength = 0
  private copied = 0
  private failed: FramingError | undefined = undefined

  constructor(maxLength: number) {
    this.maxLength = maxLength
  }

  get buffered(): number {
    return this.partial === undefined ? this.headLength : this.partialLength
  }

  get bytesCopied(): number {
    return this.copied
  }

  get error(): FramingError | undefined {
    return this.failed
  }

  push(chunk: Uint8Array): FramerResult {
    if (this.failed !== undefined) return { frames: NO_FRAMES, error: this.failed }
    const end = chunk.length
    let pos = 0
    let frames: Array<Uint8Array> | undefined

    // 1. Finish the PDU begun in earlier chunks, if any.
    if (this.headLength > 0) {
      const take = Math.min(4 - this.headLength, end)
      this.head.set(chunk.subarray(0, take), this.headLength)
      this.headLength += take
      this.copied += take
      pos = take
      if (this.headLength < 4) return { frames: NO_FRAMES, error: undefined }
      const length = readU32(this.head, 0)
      if (length < HEADER_LENGTH || length > this.maxLength) {
        // Read on, as far as this chunk goes, for the sequence number to answer with.
        const more = Math.min(HEADER_LENGTH - this.headLength, end - pos)
        this.head.set(chunk.subarray(pos, pos + more), this.headLength)
        this.headLength += more
        this.copied += more
        const sequence = this.headLength === HEADER_LENGTH ? readU32(this.head, 12) : undefined
        return { frames: NO_FRAMES, error: this.fail(length, sequence) }
      }
      this.partial = new Uint8Array(length)
      this.partial.set(this.head.subarray(0, 4), 0)
      this.partialLength = 4
      this.headLength = 0
    }
    if (this.partial !== undefined) {
      const partial = this.partial
      const take = Math.min(partial.length - this.partialLength, end - pos)
      partial.set(chunk.subarray(pos, pos + take), this.partialLength)
      this.partialLength += take
      this.copied += take
      pos += take
      if (this.partialLength < partial.length) return { frames: NO_FRAMES, error: undefined }
      this.partial = undefined
      this.partialLength = 0
      frames = [partial]
    }

    // 2. Whole PDUs inside the chunk: views, no copy.
    while (end - pos >= 4) {
      const length = readU32(chunk, pos)
      if (length < HEADER_LENGTH || length > this.maxLength) {
        const sequence = end - pos >= HEADER_LENGTH ? readU32(chunk, pos + 12) : undefined
        return { frames: frames ?? NO_FRAMES, error: this.fail(length, sequence) }
      }
      if (end - pos < length) break
      if (frames === undefined) frames = []
      frames.push(chunk.subarray(pos, pos + length))
      pos += length
    }

    // 3. Keep the start of the next PDU: its own buffer once the length is known.
    const rest = end - pos
    if (rest > 0) {
      if (rest < 4) {
        this.head.set(chunk.subarray(pos, end), 0)
        this.headLength = rest
      } else {
        const partial = new Uint8Array(readU32(chunk, pos))
        partial.set(chunk.subarray(pos, end), 0)
        this.partial = partial
        this.partialLength = rest
      }
      this.copied += rest
    }
    return { frames: frames ?? NO_FRAMES, error: undefined }
  }

  private fail(commandLength: number, sequenceNumber: number | undefined): FramingError {
    this.partial = undefined
    this.partialLength = 0
    this.headLength = 0
    this.failed = new FramingError({
      reason: commandLength < HEADER_LENGTH ? "CommandLengthTooShort" : "CommandLengthTooLong",
      commandLength,
      sequenceNumber,
      maxLength: this.maxLength,
      status: CommandStatus.ESME_RINVCMDLEN
    })
    return this.failed
  }
}

/**
 * A new framer. `maxLength` bounds the memory one PDU may claim before it is rejected.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: FramerOptions): Framer =>
  new FramerImpl(Math.max(HEADER_LENGTH, options?.maxLength ?? DEFAULT_MAX_LENGTH))
