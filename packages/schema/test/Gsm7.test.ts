import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Gsm7 from "../src/Gsm7.js"

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")
const encodeOk = (text: string): Uint8Array => Either.getOrThrow(Gsm7.encode(text))

const basicChars = Array.from(Gsm7.BASIC_TABLE).filter((_, septet) => septet !== Gsm7.ESCAPE)
const extensionChars = Array.from(Gsm7.EXTENSION_TABLE.values())
const allChars = [...basicChars, ...extensionChars]

describe("Gsm7", () => {
  it("has 128 default septets and the ten extension characters", () => {
    assert.strictEqual(Gsm7.BASIC_TABLE.length, 128)
    assert.strictEqual(basicChars.length, 127)
    assert.deepStrictEqual([...extensionChars].sort(), ["\f", "[", "\\", "]", "^", "{", "|", "}", "~", "€"].sort())
  })

  it("maps well-known characters to their septets", () => {
    assert.strictEqual(hex(encodeOk("@£$¥")), "00010203")
    assert.strictEqual(hex(encodeOk("Δ_ΦΓΛΩΠΨΣΘΞ")), "101112131415161718191a")
    assert.strictEqual(hex(encodeOk("¡¤§¿àÉ")), "4024 5f 60 7f 1f".replace(/ /g, ""))
    assert.strictEqual(hex(encodeOk("\n\r")), "0a0d")
    assert.strictEqual(hex(encodeOk("€")), "1b65")
    assert.strictEqual(hex(encodeOk("^{}\\[~]|\f")), "1b141b281b291b2f1b3c1b3d1b3e1b401b0a")
  })

  it("round-trips every character of the default table, unpacked", () => {
    for (let septet = 0; septet < 128; septet++) {
      if (septet === Gsm7.ESCAPE) continue
      const char = Gsm7.BASIC_TABLE[septet]
      const bytes = encodeOk(char)
      assert.deepStrictEqual(Array.from(bytes), [septet], `septet 0x${septet.toString(16)}`)
      assert.strictEqual(Gsm7.decode(bytes), char)
    }
  })

  it("round-trips every character of the extension table, unpacked", () => {
    for (const [septet, char] of Gsm7.EXTENSION_TABLE) {
      const bytes = encodeOk(char)
      assert.deepStrictEqual(Array.from(bytes), [Gsm7.ESCAPE, septet])
      assert.strictEqual(Gsm7.decode(bytes), char)
    }
  })

  it("round-trips every character of both tables packed, with fill bits 0..6", () => {
    const text = allChars.join("")
    const septets = encodeOk(text)
    assert.strictEqual(septets.length, 127 + 2 * 10)
    for (let fill = 0; fill <= 6; fill++) {
      const packed = Gsm7.pack(septets, fill)
      assert.strictEqual(packed.length, Gsm7.packedLength(septets.length, fill))
      assert.strictEqual(packed.length, Math.ceil((fill + 7 * septets.length) / 8))
      const unpacked = Gsm7.unpack(packed, septets.length, fill)
      assert.deepStrictEqual(unpacked, septets)
      assert.strictEqual(Gsm7.decode(unpacked), text)
      // each character alone too, so that every septet value meets every bit offset
      for (const char of allChars) {
        const one = encodeOk(char)
        assert.strictEqual(Gsm7.decode(Gsm7.unpack(Gsm7.pack(one, fill), one.length, fill)), char)
      }
    }
  })

  it("packs the reference vectors", () => {
    // TS 23.038 / common test vector
    assert.strictEqual(hex(Gsm7.pack(encodeOk("hellohello"))), "e8329bfd4697d9ec37")
    // 8 septets fill 7 octets exactly
    assert.strictEqual(hex(Gsm7.pack(encodeOk("12345678"))), "31d98c56b3dd70")
    // after a 6-octet UDH, one fill bit shifts everything up by one
    assert.strictEqual(Gsm7.fillBitsFor(6), 1)
    assert.strictEqual(Gsm7.fillBitsFor(7), 0)
    assert.strictEqual(Gsm7.fillBitsFor(12), 2)
    assert.strictEqual(hex(Gsm7.pack(encodeOk("A"), 1)), "82")
  })

  it("pack/unpack is identity on random septets and fill bits (property)", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.uint8Array({ maxLength: 300 }).map((a) => a.map((b) => b & 0x7f)),
        FastCheck.integer({ min: 0, max: 6 }),
        (septets, fill) => {
          const back = Gsm7.unpack(Gsm7.pack(septets, fill), septets.length, fill)
          assert.deepStrictEqual(back, septets)
        }
      )
    )
  })

  it("unpack clamps the septet count to what the octets hold", () => {
    const packed = Gsm7.pack(encodeOk("abc"))
    assert.strictEqual(Gsm7.decode(Gsm7.unpack(packed, 99)), "abc")
    assert.strictEqual(Gsm7.unpack(new Uint8Array(0), 5).length, 0)
  })

  it("fails naming the first character that does not fit", () => {
    const result = Gsm7.encode("abc😀dé中")
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.strictEqual(result.left._tag, "Gsm7Error")
      assert.strictEqual(result.left.reason, "UnencodableCharacter")
      assert.strictEqual(result.left.character, "😀")
      assert.strictEqual(result.left.index, 3)
      assert.include(result.left.message, "U+1F600")
    }
    const ctrl = Gsm7.encode("a\u001bb")
    assert.isTrue(Either.isLeft(ctrl), "a literal ESC is not a character")
    assert.strictEqual(Gsm7.firstUnencodable("ok ç"), 3)
    assert.isFalse(Gsm7.isEncodable("`"))
  })

  it("counts septets, extension characters as two", () => {
    assert.deepStrictEqual(Gsm7.countSeptets("a€{"), Option.some(5))
    assert.deepStrictEqual(Gsm7.countSeptets(""), Option.some(0))
    assert.deepStrictEqual(Gsm7.countSeptets("ä中"), Option.none())
    assert.strictEqual(Gsm7.septetsOf("a".charCodeAt(0)), 1)
    assert.strictEqual(Gsm7.septetsOf("€".charCodeAt(0)), 2)
    assert.strictEqual(Gsm7.septetsOf("中".charCodeAt(0)), 0)
  })

  it("decodes unknown septets tolerantly", () => {
    // escape + a septet without extension character: the default table's character
    assert.strictEqual(Gsm7.decode(Uint8Array.of(0x1b, 0x41)), "A")
    // escape + escape, and a trailing escape: a space
    assert.strictEqual(Gsm7.decode(Uint8Array.of(0x1b, 0x1b, 0x61)), " a")
    assert.strictEqual(Gsm7.decode(Uint8Array.of(0x61, 0x1b)), "a ")
    // octets above 0x7F are not septets
    assert.strictEqual(Gsm7.decode(Uint8Array.of(0x61, 0xc8, 0x1b, 0x80)), "a??")
  })

  it("decodes long input (chunked string building)", () => {
    const text = "€a".repeat(10_000)
    assert.strictEqual(Gsm7.decode(encodeOk(text)), text)
  })
})
