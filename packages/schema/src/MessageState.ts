/**
 * message_state values of SMPP 3.4 (the `message_state` TLV and query_sm_resp) and the
 * seven-letter `stat:` words that stand for them in delivery receipt text (appendix B).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export const MessageState = {
  ENROUTE: 1,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIVERABLE: 5,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTED: 8
} as const

/**
 * @since 0.1.0
 * @category models
 */
export type MessageStateName = keyof typeof MessageState

/**
 * One of the eight message_state values (1–8).
 *
 * @since 0.1.0
 * @category models
 */
export type MessageState = (typeof MessageState)[MessageStateName]

/**
 * The `stat:` word of each message_state, as the specification's table B-2 spells it.
 *
 * @since 0.1.0
 * @category models
 */
export const StatWord = {
  ENROUTE: "ENROUTE",
  DELIVERED: "DELIVRD",
  EXPIRED: "EXPIRED",
  DELETED: "DELETED",
  UNDELIVERABLE: "UNDELIV",
  ACCEPTED: "ACCEPTD",
  UNKNOWN: "UNKNOWN",
  REJECTED: "REJECTD"
} as const

/**
 * @since 0.1.0
 * @category models
 */
export type StatWord = (typeof StatWord)[MessageStateName]

const names = Object.keys(MessageState) as Array<MessageStateName>

const nameByValue = new Map<number, MessageStateName>(names.map((name) => [MessageState[name], name]))

// Words seen in the wild besides table B-2. Only meanings that are the same across
// providers are mapped; the rest (ACKED: "acknowledged" means carrier acceptance for
// some and handset acknowledgement for others) deliberately stay unmapped.
const stateByWord = new Map<string, MessageState>([
  ...names.map((name) => [StatWord[name], MessageState[name]] as const),
  // the message_state names themselves, sent by some SMSCs instead of the 7-letter words
  ...names.map((name) => [name, MessageState[name]] as const),
  ["DELIVERD", MessageState.DELIVERED],
  ["UNDELIVERED", MessageState.UNDELIVERABLE],
  // BUFFRED (mBlox and others): held in the SMSC for a retry — still on its way
  ["BUFFRED", MessageState.ENROUTE],
  ["BUFFERED", MessageState.ENROUTE],
  // FAILED / FAILURE: a final failure to deliver, which is what UNDELIVERABLE means
  ["FAILED", MessageState.UNDELIVERABLE],
  ["FAILURE", MessageState.UNDELIVERABLE]
])

/**
 * Whether a number is one of the eight message_state values.
 *
 * @since 0.1.0
 * @category guards
 */
export const isMessageState = (value: number): value is MessageState => nameByValue.has(value)

/**
 * The name of a message_state, or `undefined` for a value outside the table.
 *
 * @since 0.1.0
 * @category utils
 */
export const nameOf = (state: number): MessageStateName | undefined => nameByValue.get(state)

/**
 * The `stat:` word of a message_state (`2` → `"DELIVRD"`), or `undefined` outside the table.
 *
 * @since 0.1.0
 * @category utils
 */
export const toStatWord = (state: number): StatWord | undefined => {
  const name = nameByValue.get(state)
  return name === undefined ? undefined : StatWord[name]
}

/**
 * The message_state a `stat:` word stands for, in any letter case. Besides table B-2 it
 * knows the full state names (`DELIVERED`, `UNDELIVERABLE`, …), `BUFFRED`/`BUFFERED`
 * (→ ENROUTE) and `FAILED`/`FAILURE` (→ UNDELIVERABLE); any other word (e.g. `ACKED`)
 * gives `undefined` — callers keep the word itself.
 *
 * @since 0.1.0
 * @category utils
 */
export const fromStatWord = (word: string): MessageState | undefined => stateByWord.get(word.trim().toUpperCase())
