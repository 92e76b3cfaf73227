/**
 * @effect-smpp/schema — SMPP 3.4 as data: every PDU as an Effect Schema, the wire codec
 * compiled from those declarations, text encodings, delivery receipts and SMPP times.
 *
 * @since 0.1.0
 */
export * as Codec from "./Codec.js"
export * as CommandId from "./CommandId.js"
export * as CommandStatus from "./CommandStatus.js"
export * as DataCoding from "./DataCoding.js"
export * as DecodeError from "./DecodeError.js"
export * as DeliveryReceipt from "./DeliveryReceipt.js"
export * as Gsm7 from "./Gsm7.js"
export * as MessageState from "./MessageState.js"
export * as Pdu from "./Pdu.js"
export * as PduJson from "./PduJson.js"
export * as Reassembly from "./Reassembly.js"
export * as Segmentation from "./Segmentation.js"
export * as SmppTime from "./SmppTime.js"
export * as Text from "./Text.js"
export * as Tlv from "./Tlv.js"
export * as Udh from "./Udh.js"
