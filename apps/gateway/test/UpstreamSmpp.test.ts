import { assert, describe, it } from "@effect/vitest"
import type * as SmppClient from "@effect-smpp/runtime/SmppClient"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as GatewayConfig from "../src/GatewayConfig.js"
import type { Message } from "../src/MessageStore.js"
import { outcomeOf, submitPdu } from "../src/UpstreamSmpp.js"
import { storedMessage } from "./fixtures/messages.js"

// a concatenated UCS-2 part (UDH, esm_class 0x40) for connector "b", no receipt asked
const message = (overrides?: Partial<Message>): Message =>
  storedMessage({
    id: "00000000000000aa",
    account: "demo",
    serviceType: "CMT",
    esmClass: 0x40,
    priorityFlag: 1,
    dataCoding: 8,
    body: new Uint8Array([5, 0, 3, 1, 2, 1, 0, 0x41]),
    registeredDelivery: 0,
    connector: "b",
    ...overrides
  })

const receipt = (overrides?: Partial<SmppClient.Receipt>, esmClass = 0x04): SmppClient.Receipt => ({
  _tag: "Receipt",
  messageId: "up-1",
  state: MessageState.DELIVERED,
  stat: "DELIVRD",
  error: "000",
  networkErrorCode: undefined,
  receipt: undefined,
  source: { addr: "491701234567", ton: 1, npi: 1 },
  destination: { addr: "Acme", ton: 5, npi: 0 },
  pdu: Pdu.DeliverSm.make({ esmClass, shortMessage: new Uint8Array(0) }),
  sessionId: "s",
  ...overrides
})

describe("UpstreamSmpp", () => {
  it("submitPdu carries the message's fields and always asks the upstream for a receipt", () => {
    const pdu = submitPdu(message())
    assert.strictEqual(pdu.serviceType, "CMT")
    assert.strictEqual(pdu.sourceAddr, "Acme")
    assert.strictEqual(pdu.sourceAddrTon, 5)
    assert.strictEqual(pdu.destinationAddr, "491701234567")
    assert.strictEqual(pdu.destAddrNpi, 1)
    assert.strictEqual(pdu.esmClass, 0x40)
    assert.strictEqual(pdu.dataCoding, 8)
    assert.strictEqual(pdu.priorityFlag, 1)
    assert.strictEqual(pdu.registeredDelivery, 1)
    assert.deepStrictEqual([...pdu.shortMessage], [5, 0, 3, 1, 2, 1, 0, 0x41])
  })

  it("submitPdu puts a body beyond 254 octets in message_payload", () => {
    const body = new Uint8Array(300).fill(0x61)
    const pdu = submitPdu(message({ body, esmClass: 0, dataCoding: 0 }))
    assert.strictEqual(pdu.shortMessage.length, 0)
    assert.strictEqual(pdu.tlvs.messagePayload?.length, 300)
  })

  it("outcomeOf reads the final state and err:, and ignores intermediate or unreadable receipts", () => {
    assert.deepStrictEqual(outcomeOf(receipt()), Option.some({ state: MessageState.DELIVERED, errorCode: 0 }))
    assert.deepStrictEqual(
      outcomeOf(receipt({ state: MessageState.UNDELIVERABLE, error: "042" })),
      Option.some({ state: MessageState.UNDELIVERABLE, errorCode: 42 })
    )
    assert.deepStrictEqual(
      outcomeOf(receipt({ state: MessageState.REJECTED, error: undefined, networkErrorCode: { networkType: 3, errorCode: 7 } })),
      Option.some({ state: MessageState.REJECTED, errorCode: 7 })
    )
    assert.isTrue(Option.isNone(outcomeOf(receipt({ state: MessageState.ENROUTE }))))
    assert.isTrue(Option.isNone(outcomeOf(receipt({ state: undefined }))))
    assert.isTrue(Option.isNone(outcomeOf(receipt({}, 0x20))))
  })

  it("the config takes upstreams with defaults, and refuses duplicate or reserved names", () => {
    const settings = Either.getOrThrow(GatewayConfig.decode({
      upstreams: [{ name: "b", host: "smsc.example", port: 2775, systemId: "acme", password: "secret" }],
      routes: [{ prefix: "49", connector: "b" }]
    }))
    const [upstream] = settings.upstreams
    assert.strictEqual(upstream.bindKind, "transceiver")
    assert.strictEqual(upstream.window, 10)
    assert.isFalse(upstream.tls)
    assert.isUndefined(upstream.moAccount)
    assert.deepStrictEqual(GatewayConfig.defaults.upstreams, [])

    const base = { host: "h", port: 1, systemId: "s", password: "p" }
    const duplicate = GatewayConfig.decode({ upstreams: [{ name: "b", ...base }, { name: "b", ...base }] })
    assert.isTrue(Either.isLeft(duplicate) && duplicate.left.key === "upstreams[1].name")
    const reserved = GatewayConfig.decode({ upstreams: [{ name: "simulator", ...base }] })
    assert.isTrue(Either.isLeft(reserved) && reserved.left.key === "upstreams[0].name")
    const badKind = GatewayConfig.decode({ upstreams: [{ name: "b", ...base, bindKind: "sideways" }] })
    assert.isTrue(Either.isLeft(badKind) && badKind.left.key === "upstreams[0].bindKind")
  })
})
