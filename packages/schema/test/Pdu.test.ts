import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Codec from "../src/Codec.js"
import * as Pdu from "../src/Pdu.js"

describe("Pdu.make", () => {
  it("fills every field left out with the Schema constructor's default", () => {
    const fast = Pdu.make("submit_sm", { sourceAddr: "Effect", destinationAddr: "491701234567" })
    const validated = Pdu.SubmitSm.make({ sourceAddr: "Effect", destinationAddr: "491701234567" })
    assert.deepStrictEqual(fast, validated)
    assert.deepStrictEqual(Object.keys(fast), Object.keys(validated))
  })

  it("builds every PDU kind with the bind defaults (interface_version 0x34)", () => {
    const bind = Pdu.make("bind_transceiver", { systemId: "demo", password: "demo" })
    assert.strictEqual(bind.interfaceVersion, 0x34)
    const decoded = Codec.decode(Codec.encode(bind))
    assert.isTrue(Either.isRight(decoded))
    assert.deepStrictEqual(Either.getOrThrow(decoded), bind)
  })

  it("does not share mutable state between calls", () => {
    const a = Pdu.make("deliver_sm", { tlvs: { receiptedMessageId: "a" } })
    const b = Pdu.make("deliver_sm", {})
    assert.deepStrictEqual(b.tlvs, {})
    assert.strictEqual(a.tlvs.receiptedMessageId, "a")
  })

  it("leaves validation to the encoder", () => {
    const bad = Pdu.make("submit_sm", { sourceAddr: "x".repeat(21) })
    const result = Codec.encodeEither(bad)
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.strictEqual(result.left.field, "sourceAddr")
  })
})
