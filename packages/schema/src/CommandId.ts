/**
 * The command_id of every SMPP 3.4 PDU, by the specification's name.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export const CommandId = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  query_sm: 0x00000003,
  query_sm_resp: 0x80000003,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  replace_sm: 0x00000007,
  replace_sm_resp: 0x80000007,
  cancel_sm: 0x00000008,
  cancel_sm_resp: 0x80000008,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  outbind: 0x0000000b,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  submit_multi: 0x00000021,
  submit_multi_resp: 0x80000021,
  alert_notification: 0x00000102,
  data_sm: 0x00000103,
  data_sm_resp: 0x80000103
} as const

/**
 * The specification's name of a PDU (`"submit_sm"`).
 *
 * @since 0.1.0
 * @category models
 */
export type CommandName = keyof typeof CommandId

/**
 * @since 0.1.0
 * @category models
 */
export const commandNames = Object.keys(CommandId) as ReadonlyArray<CommandName>

const byId = new Map<number, CommandName>(commandNames.map((name) => [CommandId[name], name]))

/**
 * The name of a command_id, or `undefined` when SMPP 3.4 has no such command.
 *
 * @since 0.1.0
 * @category utils
 */
export const nameOf = (id: number): CommandName | undefined => byId.get(id >>> 0)

/**
 * Whether a command_id is a response (bit 31 set).
 *
 * @since 0.1.0
 * @category utils
 */
export const isResponseId = (id: number): boolean => (id & 0x80000000) !== 0

/**
 * The command_id of the response to a request id.
 *
 * @since 0.1.0
 * @category utils
 */
export const responseIdOf = (id: number): number => (id | 0x80000000) >>> 0

/**
 * The name of the response PDU to a request, or `undefined` for requests that have none
 * (outbind, alert_notification) and for responses.
 *
 * @since 0.1.0
 * @category utils
 */
export const responseNameOf = (name: CommandName): CommandName | undefined =>
  isResponseId(CommandId[name]) ? undefined : nameOf(responseIdOf(CommandId[name]))
