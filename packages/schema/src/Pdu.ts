/**
 * The 27 PDUs of SMPP 3.4 as Schemas. Each declaration is the single source of truth:
 * the field order is the wire order, and every field carries its wire layout and the
 * specification's limits; the codec (`Codec.ts`) is compiled from these declarations.
 *
 * Tags are the specification's names (`"submit_sm"`), fields its names in camelCase.
 * Constructors (`SubmitSm.make({ destinationAddr: "…" })`) fill every field left out
 * with 0, "" or no octets.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CommandId, type CommandName } from "./CommandId.js"
import { CommandStatus } from "./CommandStatus.js"
import * as Field from "./internal/field.js"
import { PduAnnotationId, WireAnnotationId } from "./internal/wire.js"
import { Tlvs } from "./Tlv.js"

const S = CommandStatus

const header = {
  commandStatus: Field.u32,
  sequenceNumber: Field.u32
}

const tlvs = Schema.propertySignature(Tlvs).pipe(Schema.withConstructorDefault(() => ({})))

const pdu = <Tag extends CommandName, Fields extends Schema.Struct.Fields>(tag: Tag, fields: Fields) =>
  Schema.TaggedStruct(tag, { ...header, ...fields, tlvs }).annotations({
    identifier: tag,
    [PduAnnotationId]: { commandId: CommandId[tag], tlvs: true }
  })

const headerOnly = <Tag extends CommandName>(tag: Tag) =>
  Schema.TaggedStruct(tag, header).annotations({
    identifier: tag,
    [PduAnnotationId]: { commandId: CommandId[tag], tlvs: false }
  })

// Field groups shared by several PDUs.
const sourceAddress = (max: number) => ({
  sourceAddrTon: Field.u8,
  sourceAddrNpi: Field.u8,
  sourceAddr: Field.cstring(max, S.ESME_RINVSRCADR)
})
const destAddress = (max: number) => ({
  destAddrTon: Field.u8,
  destAddrNpi: Field.u8,
  destinationAddr: Field.cstring(max, S.ESME_RINVDSTADR)
})
const serviceType = { serviceType: Field.cstring(6, S.ESME_RINVSERTYP) }
const messageId = Field.cstring(65, S.ESME_RINVMSGID)
const optionalMessageId = Field.trailing(Field.cstringSchema(65, S.ESME_RINVMSGID))
const scheduling = {
  scheduleDeliveryTime: Field.time(S.ESME_RINVSCHED),
  validityPeriod: Field.time(S.ESME_RINVEXPIRY)
}
const message = {
  esmClass: Field.u8,
  protocolId: Field.u8,
  priorityFlag: Field.u8,
  ...scheduling,
  registeredDelivery: Field.u8,
  replaceIfPresentFlag: Field.u8,
  dataCoding: Field.u8,
  smDefaultMsgId: Field.u8,
  shortMessage: Field.shortMessage
}
const bind = {
  systemId: Field.cstring(16, S.ESME_RINVSYSID),
  password: Field.cstring(9, S.ESME_RINVPASWD),
  systemType: Field.cstring(13, S.ESME_RINVSYSTYP),
  interfaceVersion: Schema.propertySignature(Field.u8Schema).pipe(Schema.withConstructorDefault(() => 0x34)),
  addrTon: Field.u8,
  addrNpi: Field.u8,
  addressRange: Field.cstring(41)
}
const bindResp = { systemId: Field.trailing(Field.cstringSchema(16, S.ESME_RINVSYSID)) }

/**
 * A destination of submit_multi: an SME address (dest_flag 1) or a distribution list (dest_flag 2).
 *
 * @since 0.1.0
 * @category schemas
 */
export const DestAddress = Schema.Union(
  Schema.Struct({
    destFlag: Schema.Literal(1),
    destAddrTon: Field.u8Schema,
    destAddrNpi: Field.u8Schema,
    destinationAddr: Field.cstringSchema(21, S.ESME_RINVDSTADR)
  }),
  Schema.Struct({
    destFlag: Schema.Literal(2),
    dlName: Field.cstringSchema(21, S.ESME_RINVDLNAME)
  })
)

/**
 * @since 0.1.0
 * @category models
 */
export type DestAddress = typeof DestAddress.Type

/**
 * A destination submit_multi could not deliver to, with the error status for it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UnsuccessSme = Schema.Struct({
  destAddrTon: Field.u8Schema,
  destAddrNpi: Field.u8Schema,
  destinationAddr: Field.cstringSchema(21, S.ESME_RINVDSTADR),
  errorStatusCode: Field.u32Schema
})

/**
 * @since 0.1.0
 * @category models
 */
export type UnsuccessSme = typeof UnsuccessSme.Type

const destAddresses = Schema.Array(DestAddress).pipe(
  Schema.minItems(1),
  Schema.maxItems(254)
).annotations({ [WireAnnotationId]: { kind: "destAddresses" } })

const unsuccessSmes = Schema.Array(UnsuccessSme).pipe(Schema.maxItems(255)).annotations({
  [WireAnnotationId]: { kind: "unsuccessSmes" }
})

/** @since 0.1.0 @category schemas */
export const GenericNack = headerOnly("generic_nack")
/** @since 0.1.0 @category schemas */
export const BindReceiver = pdu("bind_receiver", bind)
/** @since 0.1.0 @category schemas */
export const BindReceiverResp = pdu("bind_receiver_resp", bindResp)
/** @since 0.1.0 @category schemas */
export const BindTransmitter = pdu("bind_transmitter", bind)
/** @since 0.1.0 @category schemas */
export const BindTransmitterResp = pdu("bind_transmitter_resp", bindResp)
/** @since 0.1.0 @category schemas */
export const BindTransceiver = pdu("bind_transceiver", bind)
/** @since 0.1.0 @category schemas */
export const BindTransceiverResp = pdu("bind_transceiver_resp", bindResp)
/** @since 0.1.0 @category schemas */
export const Outbind = pdu("outbind", {
  systemId: Field.cstring(16, S.ESME_RINVSYSID),
  password: Field.cstring(9, S.ESME_RINVPASWD)
})
/** @since 0.1.0 @category schemas */
export const Unbind = headerOnly("unbind")
/** @since 0.1.0 @category schemas */
export const UnbindResp = headerOnly("unbind_resp")
/** @since 0.1.0 @category schemas */
export const EnquireLink = headerOnly("enquire_link")
/** @since 0.1.0 @category schemas */
export const EnquireLinkResp = headerOnly("enquire_link_resp")
/** @since 0.1.0 @category schemas */
export const SubmitSm = pdu("submit_sm", {
  ...serviceType,
  ...sourceAddress(21),
  ...destAddress(21),
  ...message
})
/** @since 0.1.0 @category schemas */
export const SubmitSmResp = pdu("submit_sm_resp", { messageId: optionalMessageId })
/** @since 0.1.0 @category schemas */
export const SubmitMulti = pdu("submit_multi", {
  ...serviceType,
  ...sourceAddress(21),
  destAddresses,
  ...message
})
/** @since 0.1.0 @category schemas */
export const SubmitMultiResp = pdu("submit_multi_resp", {
  messageId: optionalMessageId,
  unsuccessSmes: Schema.optionalWith(unsuccessSmes, { exact: true })
})
/** @since 0.1.0 @category schemas */
export const DeliverSm = pdu("deliver_sm", {
  ...serviceType,
  ...sourceAddress(21),
  ...destAddress(21),
  ...message
})
/** @since 0.1.0 @category schemas */
export const DeliverSmResp = pdu("deliver_sm_resp", { messageId: optionalMessageId })
/** @since 0.1.0 @category schemas */
export const DataSm = pdu("data_sm", {
  ...serviceType,
  ...sourceAddress(65),
  ...destAddress(65),
  esmClass: Field.u8,
  registeredDelivery: Field.u8,
  dataCoding: Field.u8
})
/** @since 0.1.0 @category schemas */
export const DataSmResp = pdu("data_sm_resp", { messageId: optionalMessageId })
/** @since 0.1.0 @category schemas */
export const QuerySm = pdu("query_sm", { messageId, ...sourceAddress(21) })
/** @since 0.1.0 @category schemas */
export const QuerySmResp = pdu("query_sm_resp", {
  messageId,
  finalDate: Field.time(S.ESME_RINVPARLEN),
  messageState: Field.u8,
  errorCode: Field.u8
})
/** @since 0.1.0 @category schemas */
export const CancelSm = pdu("cancel_sm", {
  ...serviceType,
  messageId,
  ...sourceAddress(21),
  ...destAddress(21)
})
/** @since 0.1.0 @category schemas */
export const CancelSmResp = headerOnly("cancel_sm_resp")
/** @since 0.1.0 @category schemas */
export const ReplaceSm = pdu("replace_sm", {
  messageId,
  ...sourceAddress(21),
  ...scheduling,
  registeredDelivery: Field.u8,
  smDefaultMsgId: Field.u8,
  shortMessage: Field.shortMessage
})
/** @since 0.1.0 @category schemas */
export const ReplaceSmResp = headerOnly("replace_sm_resp")
/** @since 0.1.0 @category schemas */
export const AlertNotification = pdu("alert_notification", {
  ...sourceAddress(65),
  esmeAddrTon: Field.u8,
  esmeAddrNpi: Field.u8,
  esmeAddr: Field.cstring(65, S.ESME_RINVSRCADR)
})

/**
 * Every PDU of SMPP 3.4, keyed by the specification's name.
 *
 * @since 0.1.0
 * @category schemas
 */
export const schemas = {
  generic_nack: GenericNack,
  bind_receiver: BindReceiver,
  bind_receiver_resp: BindReceiverResp,
  bind_transmitter: BindTransmitter,
  bind_transmitter_resp: BindTransmitterResp,
  query_sm: QuerySm,
  query_sm_resp: QuerySmResp,
  submit_sm: SubmitSm,
  submit_sm_resp: SubmitSmResp,
  deliver_sm: DeliverSm,
  deliver_sm_resp: DeliverSmResp,
  unbind: Unbind,
  unbind_resp: UnbindResp,
  replace_sm: ReplaceSm,
  replace_sm_resp: ReplaceSmResp,
  cancel_sm: CancelSm,
  cancel_sm_resp: CancelSmResp,
  bind_transceiver: BindTransceiver,
  bind_transceiver_resp: BindTransceiverResp,
  outbind: Outbind,
  enquire_link: EnquireLink,
  enquire_link_resp: EnquireLinkResp,
  submit_multi: SubmitMulti,
  submit_multi_resp: SubmitMultiResp,
  alert_notification: AlertNotification,
  data_sm: DataSm,
  data_sm_resp: DataSmResp
} as const satisfies { readonly [K in CommandName]: { readonly Type: { readonly _tag: K } } }

/**
 * Any PDU.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Pdu = Schema.Union(...Object.values(schemas))

/**
 * @since 0.1.0
 * @category models
 */
export type Pdu = typeof Pdu.Type

/**
 * The PDU with the given name.
 *
 * @since 0.1.0
 * @category models
 */
export type PduOf<K extends CommandName> = Extract<Pdu, { readonly _tag: K }>

/** @since 0.1.0 @category models */
export type GenericNack = PduOf<"generic_nack">
/** @since 0.1.0 @category models */
export type BindReceiver = PduOf<"bind_receiver">
/** @since 0.1.0 @category models */
export type BindReceiverResp = PduOf<"bind_receiver_resp">
/** @since 0.1.0 @category models */
export type BindTransmitter = PduOf<"bind_transmitter">
/** @since 0.1.0 @category models */
export type BindTransmitterResp = PduOf<"bind_transmitter_resp">
/** @since 0.1.0 @category models */
export type BindTransceiver = PduOf<"bind_transceiver">
/** @since 0.1.0 @category models */
export type BindTransceiverResp = PduOf<"bind_transceiver_resp">
/** @since 0.1.0 @category models */
export type Outbind = PduOf<"outbind">
/** @since 0.1.0 @category models */
export type Unbind = PduOf<"unbind">
/** @since 0.1.0 @category models */
export type UnbindResp = PduOf<"unbind_resp">
/** @since 0.1.0 @category models */
export type EnquireLink = PduOf<"enquire_link">
/** @since 0.1.0 @category models */
export type EnquireLinkResp = PduOf<"enquire_link_resp">
/** @since 0.1.0 @category models */
export type SubmitSm = PduOf<"submit_sm">
/** @since 0.1.0 @category models */
export type SubmitSmResp = PduOf<"submit_sm_resp">
/** @since 0.1.0 @category models */
export type SubmitMulti = PduOf<"submit_multi">
/** @since 0.1.0 @category models */
export type SubmitMultiResp = PduOf<"submit_multi_resp">
/** @since 0.1.0 @category models */
export type DeliverSm = PduOf<"deliver_sm">
/** @since 0.1.0 @category models */
export type DeliverSmResp = PduOf<"deliver_sm_resp">
/** @since 0.1.0 @category models */
export type DataSm = PduOf<"data_sm">
/** @since 0.1.0 @category models */
export type DataSmResp = PduOf<"data_sm_resp">
/** @since 0.1.0 @category models */
export type QuerySm = PduOf<"query_sm">
/** @since 0.1.0 @category models */
export type QuerySmResp = PduOf<"query_sm_resp">
/** @since 0.1.0 @category models */
export type CancelSm = PduOf<"cancel_sm">
/** @since 0.1.0 @category models */
export type CancelSmResp = PduOf<"cancel_sm_resp">
/** @since 0.1.0 @category models */
export type ReplaceSm = PduOf<"replace_sm">
/** @since 0.1.0 @category models */
export type ReplaceSmResp = PduOf<"replace_sm_resp">
/** @since 0.1.0 @category models */
export type AlertNotification = PduOf<"alert_notification">

/**
 * Whether a PDU is a response (its command_id has bit 31 set).
 *
 * @since 0.1.0
 * @category guards
 */
export const isResponse = (pdu: Pdu): boolean => (CommandId[pdu._tag] & 0x80000000) !== 0

type Fields<K extends CommandName> = Omit<PduOf<K>, "_tag">

/**
 * One constructor per PDU, generated from its Schema: an object literal with every field
 * that has a default (the given value, or the default), then the optional fields given. One
 * fixed shape per PDU, no spread of dynamic keys (a spread made `make` a tenth of a busy
 * SMSC's time, measured in the runtime's client/server benchmark).
 */
const constructors = Object.fromEntries(
  Object.entries(schemas).map(([name, schema]) => {
    const defaults = (schema.make as (props: object, disableValidation: boolean) => Record<string, unknown>)({}, true)
    const defaulted = Object.keys(defaults).filter((key) => key !== "_tag")
    const optional = Object.keys(schema.fields).filter((key) => key !== "_tag" && !(key in defaults))
    const key = (k: string) => JSON.stringify(k)
    const body = [
      `const o = { _tag: ${key(name)}, ${
        defaulted.map((k) => `${key(k)}: f[${key(k)}] !== undefined ? f[${key(k)}] : d[${key(k)}]`).join(", ")
      } };`,
      ...optional.map((k) => `if (f[${key(k)}] !== undefined) o[${key(k)}] = f[${key(k)}];`),
      "return o;"
    ].join("\n")
    return [name, new Function("d", `return (f) => { ${body} }`)(defaults)]
  })
) as unknown as { readonly [K in CommandName]: (fields: object) => PduOf<K> }

/**
 * Builds a PDU from the fields given, every other field at its default — without the
 * Schema validation that `SubmitSm.make` runs, so it is cheap enough for every message
 * sent. The codec checks every limit when it encodes (submit_multi needs `destAddresses`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <K extends CommandName>(
  command: K,
  fields: Partial<Fields<K>>
): PduOf<K> => constructors[command](fields)
