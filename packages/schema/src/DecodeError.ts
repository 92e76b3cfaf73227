/**
 * Why bytes did not decode to a PDU, and how to answer the peer.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * What was wrong with the bytes.
 *
 * @since 0.1.0
 * @category models
 */
export type DecodeErrorReason =
  /** command_length below 16, above the bytes given or the configured maximum. */
  | "InvalidCommandLength"
  /** A command_id SMPP 3.4 does not define. */
  | "UnknownCommandId"
  /** A mandatory field missing, too long, or outside its allowed values. */
  | "InvalidField"
  /** The optional parameters do not parse, or one has a length or value not allowed. */
  | "InvalidTlv"

/**
 * A PDU that could not be decoded. `status` is the command_status to answer with;
 * `sequenceNumber` and `commandId` are set when the header could be read, so the
 * session can answer the request (or with generic_nack).
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Data.TaggedError("DecodeError")<{
  readonly reason: DecodeErrorReason
  readonly status: number
  readonly commandId: number | undefined
  readonly sequenceNumber: number | undefined
  readonly field: string | undefined
  readonly detail: string
}> {
  override get message(): string {
    return `${this.reason}${this.field === undefined ? "" : ` (${this.field})`}: ${this.detail}`
  }
}

/**
 * A value that cannot be written as a PDU: a field outside the limits its Schema sets.
 *
 * @since 0.1.0
 * @category errors
 */
export class EncodeError extends Data.TaggedError("EncodeError")<{
  readonly command: string
  readonly field: string
  readonly detail: string
}> {
  override get message(): string {
    return `${this.command}.${this.field}: ${this.detail}`
  }
}
