import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Segmentation from "../src/Segmentation.js"
import * as Udh from "../src/Udh.js"

const split = (text: string, options?: Segmentation.Options) => Either.getOrThrow(Segmentation.split(text, options))
const count = (text: string, options?: Segmentation.Options) => Either.getOrThrow(Segmentation.count(text, options))
// user data of a part, without its UDH
const body = (part: Segmentation.Part): Uint8Array =>
  part.esmClassUdhi ? Either.getOrThrow(Udh.parse(part.shortMessage)).payload : part.shortMessage
const bodyLengths = (parts: ReadonlyArray<Segmentation.Part>) => parts.map((p) => body(p).length)

describe("Segmentation", () => {
  describe("GSM 03.38", () => {
    it("160 septets fit one message, 161 need two (153 + 8)", () => {
      const one = split("a".repeat(160))
      assert.strictEqual(one.length, 1)
      assert.isFalse(one[0].esmClassUdhi)
      assert.strictEqual(one[0].dataCoding, 0)
      assert.strictEqual(one[0].shortMessage.length, 160)
      assert.isUndefined(one[0].sar)

      const two = split("a".repeat(161))
      assert.deepStrictEqual(bodyLengths(two), [153, 8])
      assert.isTrue(two.every((p) => p.esmClassUdhi && p.dataCoding === 0))
      assert.strictEqual(two[0].shortMessage.length, 6 + 153)
    })

    it("153 per part with an 8-bit UDH: 306 in two, 307 in three", () => {
      assert.deepStrictEqual(bodyLengths(split("b".repeat(306))), [153, 153])
      assert.deepStrictEqual(bodyLengths(split("b".repeat(307))), [153, 153, 1])
    })

    it("152 per part with a 16-bit UDH", () => {
      assert.strictEqual(split("c".repeat(160), { method: "udh16" }).length, 1)
      const parts = split("c".repeat(161), { method: "udh16" })
      assert.deepStrictEqual(bodyLengths(parts), [152, 9])
      assert.strictEqual(parts[0].shortMessage.length, 7 + 152)
      assert.deepStrictEqual(bodyLengths(split("c".repeat(305), { method: "udh16" })), [152, 152, 1])
    })

    it("counts an extension character as two septets", () => {
      assert.strictEqual(split("€".repeat(80)).length, 1)
      assert.strictEqual(split("€".repeat(80) + "a").length, 2)
      assert.deepStrictEqual(count("€".repeat(80)), {
        dataCoding: 0,
        alphabet: "Gsm7",
        units: 160,
        parts: 1,
        perPart: 160,
        remaining: 0
      })
    })

    it("never splits an extension character from its escape", () => {
      // 152 + 2 septets: the escape would be the 153rd septet of part 1
      const parts = split("a".repeat(152) + "€" + "z".repeat(20))
      assert.deepStrictEqual(bodyLengths(parts), [152, 22])
      assert.deepStrictEqual(Array.from(body(parts[1]).subarray(0, 2)), [0x1b, 0x65])
      // 151 + 2 septets fill part 1 exactly
      const exact = split("a".repeat(151) + "{" + "z".repeat(20))
      assert.deepStrictEqual(bodyLengths(exact), [153, 20])
      assert.deepStrictEqual(Array.from(body(exact[0]).subarray(151)), [0x1b, 0x28])
      // only extension characters: parts hold an even number of septets
      const ext = split("[".repeat(200))
      assert.deepStrictEqual(bodyLengths(ext), [152, 152, 96])
      for (const part of ext) assert.strictEqual(body(part)[0], 0x1b)
      // with udh16 (152 per part) the boundary moves too
      assert.deepStrictEqual(bodyLengths(split("a".repeat(151) + "~" + "z".repeat(20), { method: "udh16" })), [
        151,
        22
      ])
    })
  })

  describe("UCS-2", () => {
    it("70 units fit one message, 71 need two (67 + 4)", () => {
      const one = split("中".repeat(70))
      assert.strictEqual(one.length, 1)
      assert.strictEqual(one[0].dataCoding, 8)
      assert.strictEqual(one[0].shortMessage.length, 140)
      const two = split("中".repeat(71))
      assert.deepStrictEqual(bodyLengths(two), [134, 8])
      assert.deepStrictEqual(bodyLengths(split("中".repeat(135))), [134, 134, 2])
    })

    it("66 units per part with a 16-bit UDH", () => {
      assert.deepStrictEqual(bodyLengths(split("中".repeat(71), { method: "udh16" })), [132, 10])
    })

    it("never splits a surrogate pair", () => {
      // 66 units then a pair: the pair would straddle the 67th unit
      const parts = split("中".repeat(66) + "😀" + "中".repeat(10))
      assert.deepStrictEqual(bodyLengths(parts), [132, 24])
      assert.deepStrictEqual(Array.from(body(parts[1]).subarray(0, 4)), [0xd8, 0x3d, 0xde, 0x00])
      // all emoji: 67 units per part hold 33 pairs
      const emoji = split("😀".repeat(50))
      assert.deepStrictEqual(bodyLengths(emoji), [132, 68])
      // 35 emoji are 70 units: one message
      assert.strictEqual(split("😀".repeat(35)).length, 1)
    })

    it("is chosen automatically for text outside GSM, and counted in UTF-16 units", () => {
      assert.deepStrictEqual(count("a😀"), { dataCoding: 8, alphabet: "Ucs2", units: 3, parts: 1, perPart: 70, remaining: 67 })
      assert.deepStrictEqual(count("中".repeat(71)), {
        dataCoding: 8,
        alphabet: "Ucs2",
        units: 71,
        parts: 2,
        perPart: 67,
        remaining: 63
      })
    })

    it("can be forced for GSM-only text", () => {
      const parts = split("hello", { dataCoding: 8 })
      assert.strictEqual(parts[0].dataCoding, 8)
      assert.strictEqual(parts[0].shortMessage.length, 10)
    })
  })

  describe("Latin-1, IA5, octets", () => {
    it("140 octets fit one, 134 per part (udh8), 133 (udh16)", () => {
      for (const dataCoding of [1, 3, 4]) {
        assert.strictEqual(split("x".repeat(140), { dataCoding }).length, 1)
        assert.deepStrictEqual(bodyLengths(split("x".repeat(141), { dataCoding })), [134, 7])
        assert.deepStrictEqual(bodyLengths(split("x".repeat(141), { dataCoding, method: "udh16" })), [133, 8])
      }
    })

    it("splits binary data", () => {
      const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)
      const parts = Either.getOrThrow(Segmentation.splitBytes(data, 4))
      assert.deepStrictEqual(bodyLengths(parts), [134, 134, 32])
    })

    it("fails on a character the forced coding cannot carry", () => {
      const result = Segmentation.split("café €", { dataCoding: 3 })
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left._tag, "TextError")
        if (result.left._tag === "TextError") assert.strictEqual(result.left.character, "€")
      }
      assert.isTrue(Either.isLeft(Segmentation.count("😀", { dataCoding: 0 })))
    })
  })

  describe("UDH and SAR values", () => {
    it("numbers the parts and carries the reference (udh8 masks to 8 bits)", () => {
      const parts = split("a".repeat(400), { reference: 0x1a7 })
      assert.strictEqual(parts.length, 3)
      parts.forEach((part, i) => {
        const parsed = Either.getOrThrow(Udh.parse(part.shortMessage))
        assert.deepStrictEqual(parsed.concat, { reference: 0xa7, total: 3, seqNum: i + 1, referenceBits: 8 })
      })
      const p16 = split("a".repeat(400), { reference: 0x1a7, method: "udh16" })
      assert.deepStrictEqual(Either.getOrThrow(Udh.parse(p16[2].shortMessage)).concat, {
        reference: 0x1a7,
        total: 3,
        seqNum: 3,
        referenceBits: 16
      })
    })

    it("sar: 160 GSM septets / 70 UCS-2 units per part, no UDH", () => {
      assert.strictEqual(split("a".repeat(160), { method: "sar" }).length, 1)
      assert.isUndefined(split("a".repeat(160), { method: "sar" })[0].sar)
      const parts = split("a".repeat(321), { method: "sar", reference: 0x12345 })
      assert.deepStrictEqual(bodyLengths(parts), [160, 160, 1])
      parts.forEach((part, i) => {
        assert.isFalse(part.esmClassUdhi)
        assert.deepStrictEqual(part.sar, { refNum: 0x2345, total: 3, seqNum: i + 1 })
      })
      assert.deepStrictEqual(bodyLengths(split("中".repeat(141), { method: "sar" })), [140, 140, 2])
      assert.deepStrictEqual(bodyLengths(split("x".repeat(281), { method: "sar", dataCoding: 3 })), [140, 140, 1])
      assert.deepStrictEqual(count("a".repeat(321), { method: "sar" }), {
        dataCoding: 0,
        alphabet: "Gsm7",
        units: 321,
        parts: 3,
        perPart: 160,
        remaining: 159
      })
    })

    it("payload: one message, whatever the length", () => {
      const parts = split("a€".repeat(1000), { method: "payload" })
      assert.strictEqual(parts.length, 1)
      assert.isFalse(parts[0].esmClassUdhi)
      assert.strictEqual(parts[0].shortMessage.length, 3000)
      assert.strictEqual(count("a".repeat(1000), { method: "payload" }).parts, 1)
      const tooLong = Segmentation.split("a".repeat(70_000), { method: "payload" })
      assert.isTrue(Either.isLeft(tooLong) && tooLong.left._tag === "SegmentationError")
    })

    it("refuses more than 255 parts", () => {
      assert.strictEqual(split("a".repeat(153 * 255)).length, 255)
      const result = Segmentation.split("a".repeat(153 * 255 + 1))
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left._tag, "SegmentationError")
        if (result.left._tag === "SegmentationError") assert.strictEqual(result.left.reason, "TooManyParts")
      }
      assert.strictEqual(count("a".repeat(153 * 255 + 1)).parts, 256)
    })
  })

  describe("count", () => {
    it("gives what an SMS counter shows", () => {
      assert.deepStrictEqual(count(""), { dataCoding: 0, alphabet: "Gsm7", units: 0, parts: 1, perPart: 160, remaining: 160 })
      assert.deepStrictEqual(count("a".repeat(161)), {
        dataCoding: 0,
        alphabet: "Gsm7",
        units: 161,
        parts: 2,
        perPart: 153,
        remaining: 145
      })
      // the septet left empty before an extension character is not counted as free
      assert.deepStrictEqual(count("a".repeat(152) + "€"), {
        dataCoding: 0,
        alphabet: "Gsm7",
        units: 154,
        parts: 1,
        perPart: 160,
        remaining: 6
      })
      assert.strictEqual(count("a".repeat(152) + "€" + "a".repeat(10)).remaining, 153 - 12)
      assert.strictEqual(count("x".repeat(141), { dataCoding: 3, method: "udh16" }).perPart, 133)
    })

    it("agrees with split on part counts", () => {
      for (const text of ["a".repeat(459), "€".repeat(400), "中😀".repeat(100), "a".repeat(152) + "}".repeat(99)]) {
        for (const method of ["udh8", "udh16", "sar", "payload"] as const) {
          assert.strictEqual(count(text, { method }).parts, split(text, { method }).length, `${method}`)
        }
      }
    })
  })
})
