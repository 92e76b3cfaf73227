/**
 * @effect-smpp/runtime — SMPP 3.4 sessions as supervised Effect actors: the Session, an
 * ESME client (`SmppClient`), an SMSC server (`SmppServer`), transports and a test kit.
 *
 * @since 0.1.0
 */
export * as BindState from "./BindState.js"
export * as Framer from "./Framer.js"
export * as Keepalive from "./Keepalive.js"
export * as MemorySocket from "./MemorySocket.js"
export * as Resend from "./Resend.js"
export * as SequenceNumbers from "./SequenceNumbers.js"
export * as Session from "./Session.js"
export * as SessionError from "./SessionError.js"
export * as SmppClient from "./SmppClient.js"
export * as SmppServer from "./SmppServer.js"
export * as TestKit from "./TestKit.js"
export * as Transport from "./Transport.js"
