import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Udh from "../src/Udh.js"

const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ""), "hex"))
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")

describe("Udh", () => {
  it("parses an 8-bit reference concatenation header", () => {
    const parsed = Either.getOrThrow(Udh.parse(bytes("05 00 03 2a 03 02 41 42")))
    assert.deepStrictEqual(parsed.concat, { reference: 0x2a, total: 3, seqNum: 2, referenceBits: 8 })
    assert.strictEqual(parsed.headerLength, 6)
    assert.strictEqual(hex(parsed.payload), "4142")
    assert.strictEqual(parsed.elements.length, 1)
  })

  it("parses a 16-bit reference concatenation header", () => {
    const parsed = Either.getOrThrow(Udh.parse(bytes("06 08 04 12 34 05 05 ff")))
    assert.deepStrictEqual(parsed.concat, { reference: 0x1234, total: 5, seqNum: 5, referenceBits: 16 })
    assert.strictEqual(parsed.headerLength, 7)
    assert.strictEqual(hex(parsed.payload), "ff")
  })

  it("keeps other elements raw and in order, and rebuilds the header octet for octet", () => {
    const header = "0b 05 04 0b 84 23 f0 00 03 07 02 01"
    const parsed = Either.getOrThrow(Udh.parse(bytes(header + " 99")))
    assert.deepStrictEqual(parsed.elements.map((e) => e.iei), [Udh.IEI.PORTS_16, Udh.IEI.CONCAT_8])
    assert.strictEqual(hex(parsed.elements[0].data), "0b8423f0")
    assert.deepStrictEqual(parsed.concat, { reference: 7, total: 2, seqNum: 1, referenceBits: 8 })
    assert.strictEqual(hex(Either.getOrThrow(Udh.build(parsed.elements))), header.replace(/ /g, ""))
    assert.strictEqual(hex(parsed.payload), "99")
  })

  it("ignores a malformed concatenation element but keeps it", () => {
    for (const h of ["05 00 03 01 00 01", "05 00 03 01 02 03", "05 00 03 01 02 00", "04 00 02 01 02"]) {
      const parsed = Either.getOrThrow(Udh.parse(bytes(h)))
      assert.isUndefined(parsed.concat, h)
      assert.strictEqual(parsed.elements.length, 1)
    }
  })

  it("fails on truncated headers", () => {
    const reasons = ["", "05 00 03 01", "03 00 03 01", "02 00 05 ff", "01 00"].map((h) => {
      const r = Udh.parse(bytes(h))
      return Either.isLeft(r) ? r.left.reason : "ok"
    })
    assert.deepStrictEqual(reasons, ["MissingHeader", "HeaderTooLong", "TruncatedElement", "TruncatedElement", "TruncatedElement"])
  })

  it("builds concatenation elements and headers", () => {
    const c8 = { reference: 0x1ff, total: 3, seqNum: 1, referenceBits: 8 } as const
    const c16 = { reference: 0xabcd, total: 3, seqNum: 3, referenceBits: 16 } as const
    assert.strictEqual(hex(Either.getOrThrow(Udh.build([Udh.concatElement(c8)]))), "050003ff0301")
    assert.strictEqual(hex(Either.getOrThrow(Udh.build([Udh.concatElement(c16)]))), "060804abcd0303")
    const target = new Uint8Array(9)
    assert.strictEqual(Udh.writeConcat(target, 1, c16), 7)
    assert.strictEqual(hex(target), "00060804abcd030300")
    assert.strictEqual(Udh.writeConcat(target, 0, c8), Udh.concatHeaderLength(8))
    assert.deepStrictEqual(Udh.concatOf(Udh.concatElement(c16)), c16)
    assert.strictEqual(hex(Either.getOrThrow(Udh.build([]))), "00")
  })

  it("refuses elements and headers that do not fit one octet of length", () => {
    const big = Udh.build([{ iei: 0x70, data: new Uint8Array(256) }])
    assert.isTrue(Either.isLeft(big) && big.left.reason === "ElementTooLong")
    const many = Udh.build([{ iei: 0x70, data: new Uint8Array(200) }, { iei: 0x71, data: new Uint8Array(60) }])
    assert.isTrue(Either.isLeft(many) && many.left.reason === "HeaderTooLong")
  })
})
