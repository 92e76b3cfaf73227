/**
 * The typed failures of a session and of its requests.
 *
 * A response whose command_status is not ESME_ROK is not among them: at the session level it
 * is an answer like any other, returned to the caller, and the layer above decides.
 *
 * @since 0.1.0
 */
import type { CommandName } from "@effect-smpp/schema/CommandId"
import * as CommandStatus from "@effect-smpp/schema/CommandStatus"
import * as Data from "effect/Data"
import type { Role, State } from "./BindState.js"

/**
 * Why a session ended.
 *
 * - `Closed`: closed locally (`close`, or its Scope closed): drained, unbound, closed.
 * - `Unbound`: unbound locally (`unbind`, or an unbind sent with `request`), then closed.
 * - `Aborted`: closed locally at once (`abort`), without draining or unbinding.
 * - `PeerUnbound`: the peer sent unbind; it was answered, then the connection closed.
 * - `PeerClosed`: the peer closed the connection (end of stream).
 * - `SocketError`: the socket failed (see `cause`).
 * - `KeepaliveDead`: enquire_link went unanswered too many times in a row.
 * - `Inactive`: no traffic for the inactivity timeout.
 * - `SessionInitTimeout`: no bind within the session_init timeout.
 * - `InvalidCommandLength`: the peer sent a command_length the stream cannot be cut by.
 *
 * @since 0.1.0
 * @category models
 */
export type CloseReason =
  | "Closed"
  | "Unbound"
  | "Aborted"
  | "PeerUnbound"
  | "PeerClosed"
  | "SocketError"
  | "KeepaliveDead"
  | "Inactive"
  | "SessionInitTimeout"
  | "InvalidCommandLength"

const closeMessages: Record<CloseReason, string> = {
  Closed: "the session was closed",
  Unbound: "the session unbound and closed",
  Aborted: "the session was aborted",
  PeerUnbound: "the peer unbound the session",
  PeerClosed: "the peer closed the connection",
  SocketError: "the socket failed",
  KeepaliveDead: "the peer did not answer enquire_link",
  Inactive: "the session was inactive for too long",
  SessionInitTimeout: "no bind arrived within the session_init timeout",
  InvalidCommandLength: "the peer sent an invalid command_length"
}

/**
 * The session is closed or closing: a request made then, or still waiting when it closed,
 * fails with this. Also the value `Session.closed` answers with, telling why it ended.
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionClosed extends Data.TaggedError("SessionClosed")<{
  readonly reason: CloseReason
  readonly sessionId: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `session ${this.sessionId}: ${closeMessages[this.reason]}`
  }
}

/**
 * No response arrived within the response timeout; the request's window slot is free again.
 * The request may or may not have been acted upon by the peer.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseTimeout extends Data.TaggedError("ResponseTimeout")<{
  readonly command: CommandName
  readonly sequenceNumber: number
  /** The timeout, in milliseconds. */
  readonly timeout: number
}> {
  override get message(): string {
    return `no response to ${this.command} #${this.sequenceNumber} within ${this.timeout} ms`
  }
}

/**
 * The window stayed full for the configured bound: the request was never sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class WindowTimeout extends Data.TaggedError("WindowTimeout")<{
  readonly command: CommandName
  readonly windowSize: number
  /** How long the request waited, in milliseconds. */
  readonly waited: number
}> {
  override get message(): string {
    return `${this.command} waited ${this.waited} ms for a slot in a full window of ${this.windowSize}`
  }
}

/**
 * The peer answered the request with generic_nack: it could not read it at all.
 *
 * @since 0.1.0
 * @category errors
 */
export class GenericNack extends Data.TaggedError("GenericNack")<{
  readonly command: CommandName
  readonly sequenceNumber: number
  /** The generic_nack's command_status (ESME_RINVCMDID, ESME_RINVCMDLEN, …). */
  readonly status: number
}> {
  override get message(): string {
    return `${this.command} #${this.sequenceNumber} answered with generic_nack ${CommandStatus.describe(this.status)}`
  }
}

/**
 * The response to the request did not decode, or was a response to another command.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponse extends Data.TaggedError("MalformedResponse")<{
  readonly reason: "Undecodable" | "UnexpectedCommand"
  readonly command: CommandName
  readonly sequenceNumber: number
  /** The DecodeError, or the name of the command received. */
  readonly cause: unknown
}> {
  override get message(): string {
    return this.reason === "Undecodable"
      ? `the response to ${this.command} #${this.sequenceNumber} did not decode`
      : `${this.command} #${this.sequenceNumber} was answered with ${String(this.cause)}`
  }
}

/**
 * This side may not send the command in the session's current state (a submit_sm before the
 * bind, a deliver_sm from an ESME, …): refused before it reached the wire.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidBindState extends Data.TaggedError("InvalidBindState")<{
  readonly command: CommandName
  readonly role: Role
  readonly state: State
  /** The status the peer would have answered: ESME_RINVBNDSTS or ESME_RALYBND. */
  readonly status: number
}> {
  override get message(): string {
    return `an ${this.role} may not send ${this.command} in state ${this.state}`
  }
}
