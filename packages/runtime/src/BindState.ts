/**
 * The session state machine (OPEN → BOUND_TX | BOUND_RX | BOUND_TRX → UNBOUND → CLOSED) and
 * which PDU each side may send in each state (SMPP 3.4 §2.3, "Which session may send what").
 *
 * Choices beyond the table, as most implementations make them:
 * - enquire_link is legal in OPEN as well as in every bound state: answering it before the
 *   bind does no harm, and some peers probe a fresh connection with it.
 * - enquire_link and unbind stay legal in UNBOUND, so that unbinds crossing on the wire and
 *   heartbeats during the drain are answered rather than refused.
 * - Responses, generic_nack included, are legal in every state but CLOSED (generic_nack
 *   answers a bad PDU, which may come before the bind); whether a request of that sequence
 *   number is outstanding is the session's check, not this table's.
 * - CLOSED takes and sends nothing.
 *
 * @since 0.1.0
 */
import type { CommandName } from "@effect-smpp/schema/CommandId"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"

/**
 * @since 0.1.0
 * @category models
 */
export type State = "OPEN" | "BOUND_TX" | "BOUND_RX" | "BOUND_TRX" | "UNBOUND" | "CLOSED"

/**
 * Every state, in the machine's order.
 *
 * @since 0.1.0
 * @category constants
 */
export const states: ReadonlyArray<State> = ["OPEN", "BOUND_TX", "BOUND_RX", "BOUND_TRX", "UNBOUND", "CLOSED"]

/**
 * Who a session is: the ESME (client) or the SMSC (server).
 *
 * @since 0.1.0
 * @category models
 */
export type Role = "esme" | "smsc"

/**
 * @since 0.1.0
 * @category models
 */
export type BindKind = "transmitter" | "receiver" | "transceiver"

/**
 * The verdict on one PDU: allowed, or refused with the command_status to answer with
 * (ESME_RINVBNDSTS, or ESME_RALYBND for a bind on a bound session).
 *
 * @since 0.1.0
 * @category models
 */
export type Decision = { readonly ok: true } | { readonly ok: false; readonly status: number }

// One bit per state; a legality table entry is the mask of states where a role may send.
const OPEN = 1
const BOUND_TX = 2
const BOUND_RX = 4
const BOUND_TRX = 8
const UNBOUND = 16
const bitOf: Record<State, number> = { OPEN, BOUND_TX, BOUND_RX, BOUND_TRX, UNBOUND, CLOSED: 0 }
const BOUND = BOUND_TX | BOUND_RX | BOUND_TRX
const NOT_CLOSED = OPEN | BOUND | UNBOUND
const TX = BOUND_TX | BOUND_TRX
const RX = BOUND_RX | BOUND_TRX

interface Senders {
  readonly esme: number
  readonly smsc: number
}

const esmeOnly = (mask: number): Senders => ({ esme: mask, smsc: 0 })
const smscOnly = (mask: number): Senders => ({ esme: 0, smsc: mask })
const both = (mask: number): Senders => ({ esme: mask, smsc: mask })

const senders: Record<CommandName, Senders> = {
  bind_transmitter: esmeOnly(OPEN),
  bind_receiver: esmeOnly(OPEN),
  bind_transceiver: esmeOnly(OPEN),
  outbind: smscOnly(OPEN),
  submit_sm: esmeOnly(TX),
  submit_multi: esmeOnly(TX),
  query_sm: esmeOnly(TX),
  cancel_sm: esmeOnly(TX),
  replace_sm: esmeOnly(TX),
  deliver_sm: smscOnly(RX),
  alert_notification: smscOnly(RX),
  data_sm: { esme: TX, smsc: RX },
  enquire_link: both(OPEN | BOUND | UNBOUND),
  unbind: both(BOUND | UNBOUND),
  generic_nack: both(NOT_CLOSED),
  bind_transmitter_resp: both(NOT_CLOSED),
  bind_receiver_resp: both(NOT_CLOSED),
  bind_transceiver_resp: both(NOT_CLOSED),
  submit_sm_resp: both(NOT_CLOSED),
  submit_multi_resp: both(NOT_CLOSED),
  query_sm_resp: both(NOT_CLOSED),
  cancel_sm_resp: both(NOT_CLOSED),
  replace_sm_resp: both(NOT_CLOSED),
  deliver_sm_resp: both(NOT_CLOSED),
  data_sm_resp: both(NOT_CLOSED),
  enquire_link_resp: both(NOT_CLOSED),
  unbind_resp: both(NOT_CLOSED)
}

const OK: Decision = { ok: true }
const INVALID_BIND_STATUS: Decision = { ok: false, status: CommandStatus.ESME_RINVBNDSTS }
const ALREADY_BOUND: Decision = { ok: false, status: CommandStatus.ESME_RALYBND }

const isBindRequest = (command: CommandName): boolean =>
  command === "bind_transmitter" || command === "bind_receiver" || command === "bind_transceiver"

const decide = (sender: Role, state: State, command: CommandName): Decision => {
  const bit = bitOf[state]
  if ((senders[command][sender] & bit) !== 0) return OK
  // An ESME binding again on a bound session is "already bound"; anything else is the wrong state.
  return sender === "esme" && (bit & BOUND) !== 0 && isBindRequest(command) ? ALREADY_BOUND : INVALID_BIND_STATUS
}

/**
 * The other side of a session.
 *
 * @since 0.1.0
 * @category utils
 */
export const peerOf = (role: Role): Role => (role === "esme" ? "smsc" : "esme")

/**
 * Whether a session playing `role`, in `state`, may send `command`. Lets the API refuse an
 * illegal request before it reaches the wire.
 *
 * @since 0.1.0
 * @category utils
 */
export const canSend = (role: Role, state: State, command: CommandName): Decision => decide(role, state, command)

/**
 * Whether a session playing `role` (who WE are), in `state`, accepts `command` from its peer;
 * if not, the status to answer with (in the command's response, or generic_nack for
 * outbind and alert_notification, which have none).
 *
 * @since 0.1.0
 * @category utils
 */
export const canReceive = (role: Role, state: State, command: CommandName): Decision =>
  decide(peerOf(role), state, command)

/**
 * Whether the state is one of the three bound states.
 *
 * @since 0.1.0
 * @category utils
 */
export const isBound = (state: State): boolean => (bitOf[state] & BOUND) !== 0

const boundStates: Record<BindKind, State> = {
  transmitter: "BOUND_TX",
  receiver: "BOUND_RX",
  transceiver: "BOUND_TRX"
}

/**
 * The state a successful bind of this kind leads to.
 *
 * @since 0.1.0
 * @category utils
 */
export const afterBind = (kind: BindKind): State => boundStates[kind]

/**
 * The bind kind of a bound state, or `undefined` for the other states.
 *
 * @since 0.1.0
 * @category utils
 */
export const kindOfState = (state: State): BindKind | undefined =>
  state === "BOUND_TX" ? "transmitter" : state === "BOUND_RX" ? "receiver" : state === "BOUND_TRX" ? "transceiver" : undefined

/**
 * The bind request of a kind.
 *
 * @since 0.1.0
 * @category utils
 */
export const bindCommandOf = (kind: BindKind): "bind_transmitter" | "bind_receiver" | "bind_transceiver" =>
  kind === "transmitter" ? "bind_transmitter" : kind === "receiver" ? "bind_receiver" : "bind_transceiver"

/**
 * The bind response of a kind.
 *
 * @since 0.1.0
 * @category utils
 */
export const bindResponseOf = (
  kind: BindKind
): "bind_transmitter_resp" | "bind_receiver_resp" | "bind_transceiver_resp" =>
  kind === "transmitter"
    ? "bind_transmitter_resp"
    : kind === "receiver"
    ? "bind_receiver_resp"
    : "bind_transceiver_resp"

/**
 * The kind of a bind request or bind response, or `undefined` for any other command.
 *
 * @since 0.1.0
 * @category utils
 */
export const bindKindOf = (command: CommandName): BindKind | undefined => {
  switch (command) {
    case "bind_transmitter":
    case "bind_transmitter_resp":
      return "transmitter"
    case "bind_receiver":
    case "bind_receiver_resp":
      return "receiver"
    case "bind_transceiver":
    case "bind_transceiver_resp":
      return "transceiver"
    default:
      return undefined
  }
}
