import type * as Pdu from "@effect-smpp/schema/Pdu"

/** The fields submit_sm, deliver_sm and data_sm share: who, to whom, and how the body is coded. */
export const messageHeaderOf = (pdu: Pdu.SubmitSm | Pdu.DeliverSm | Pdu.DataSm) => ({
  serviceType: pdu.serviceType,
  sourceAddrTon: pdu.sourceAddrTon,
  sourceAddrNpi: pdu.sourceAddrNpi,
  sourceAddr: pdu.sourceAddr,
  destAddrTon: pdu.destAddrTon,
  destAddrNpi: pdu.destAddrNpi,
  destinationAddr: pdu.destinationAddr,
  esmClass: pdu.esmClass,
  registeredDelivery: pdu.registeredDelivery,
  dataCoding: pdu.dataCoding
})
