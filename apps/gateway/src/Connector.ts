/**
 * A connector is where the router sends a message: the built-in simulator, or (later) an
 * upstream SMPP relay built on our own client. It takes stored messages and reports, on one
 * stream, their outcomes (which the gateway turns into delivery receipts) and the mobile
 * originated messages it receives (which the gateway queues for the account).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { Message } from "./MessageStore.js"

/**
 * The connector took the message. `upstreamId` is its id for it (for a relay, the upstream
 * SMSC's message_id). `dropResponse` (simulator only) asks the gateway not to answer the
 * submit_sm at all — a QA scenario for the customer's response timeout; the message still
 * goes on.
 *
 * @since 0.1.0
 * @category models
 */
export interface Accepted {
  readonly accepted: true
  readonly upstreamId: string
  readonly dropResponse?: boolean | undefined
}

/**
 * The connector refused the message; `status` is the command_status to answer with
 * (ESME_RTHROTTLED, ESME_RMSGQFUL, ESME_RSUBMITFAIL, …).
 *
 * @since 0.1.0
 * @category models
 */
export interface Rejected {
  readonly accepted: false
  readonly status: number
}

/**
 * @since 0.1.0
 * @category models
 */
export type SubmitResult = Accepted | Rejected

/**
 * The final outcome of a message: `state` a message_state (DELIVERED, UNDELIVERABLE,
 * EXPIRED, REJECTED, …), `errorCode` the receipt's `err:`, `doneAt` epoch millis.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutcomeEvent {
  readonly _tag: "Outcome"
  readonly connector: string
  /** Our message id. */
  readonly messageId: string
  readonly upstreamId: string
  readonly state: number
  readonly errorCode: number
  readonly doneAt: number
  /**
   * The message as the connector was given it, when it keeps it (the simulator): the
   * receipt is built from it, so that the store need not read the row back.
   */
  readonly message?: Message | undefined
}

/**
 * A mobile-originated message for `account` (the system_id whose receivers get it).
 *
 * @since 0.1.0
 * @category models
 */
export interface MoEvent {
  readonly _tag: "Mo"
  readonly connector: string
  readonly account: string
  readonly serviceType: string
  readonly sourceAddrTon: number
  readonly sourceAddrNpi: number
  readonly sourceAddr: string
  readonly destAddrTon: number
  readonly destAddrNpi: number
  readonly destinationAddr: string
  readonly esmClass: number
  readonly dataCoding: number
  readonly body: Uint8Array
  readonly receivedAt: number
}

/**
 * @since 0.1.0
 * @category models
 */
export type ConnectorEvent = OutcomeEvent | MoEvent

/**
 * What every connector implements. `submit` does not fail: a connector that cannot take a
 * message answers `Rejected` with the status to pass on. `events` is meant for one
 * consumer (the gateway's receipt and MO pump).
 *
 * @since 0.1.0
 * @category models
 */
export interface Connector {
  readonly name: string
  readonly submit: (message: Message) => Effect.Effect<SubmitResult>
  /**
   * `submit` from plain code, for a connector that can answer at once (the simulator):
   * the result, or `undefined` when it cannot answer this one without an effect (then the
   * caller runs `submit`). Optional.
   */
  readonly unsafeSubmit?: ((message: Message) => SubmitResult | undefined) | undefined
  readonly events: Stream.Stream<ConnectorEvent>
}
