import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Text from "../src/Text.js"

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")
const encodeOk = (text: string, dc: number) => Either.getOrThrow(Text.encode(text, dc))

describe("Text", () => {
  it("GSM (0): unpacked septets", () => {
    assert.strictEqual(hex(encodeOk("A€", 0)), "411b65")
    assert.strictEqual(Text.decode(Uint8Array.of(0x41, 0x1b, 0x65), 0), "A€")
    assert.strictEqual(Text.decode(Uint8Array.of(0x41), 0xf0), "A")
  })

  it("IA5 (1): ASCII only; octets above 0x7F decode as Latin-1", () => {
    assert.strictEqual(hex(encodeOk("Hi~`", 1)), "48697e60")
    const err = Text.encode("abé", 1)
    assert.isTrue(Either.isLeft(err))
    if (Either.isLeft(err)) {
      assert.strictEqual(err.left._tag, "TextError")
      assert.strictEqual(err.left.character, "é")
      assert.strictEqual(err.left.index, 2)
      assert.strictEqual(err.left.dataCoding, 1)
    }
    assert.strictEqual(Text.decode(Uint8Array.of(0x48, 0xe9), 1), "Hé")
  })

  it("Latin-1 (3): U+0000–U+00FF, one octet each", () => {
    const text = "ÿçé àü ¿¡ ß"
    const bytes = encodeOk(text, 3)
    assert.strictEqual(bytes.length, text.length)
    assert.strictEqual(bytes[0], 0xff)
    assert.strictEqual(Text.decode(bytes, 3), text)
    const err = Text.encode("5€", 3)
    assert.isTrue(Either.isLeft(err) && err.left.character === "€" && err.left.index === 1)
  })

  it("octets (2, 4, unknown): every octet passes through unchanged", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    for (const dc of [2, 4, 5, 0x0e, 0xf4]) {
      const text = Text.decode(all, dc)
      assert.strictEqual(text.length, 256)
      assert.deepStrictEqual(encodeOk(text, dc), all)
    }
  })

  it("UCS-2 (8): UTF-16BE, surrogate pairs intact", () => {
    assert.strictEqual(hex(encodeOk("Aé中", 8)), "004100e94e2d")
    assert.strictEqual(hex(encodeOk("😀", 8)), "d83dde00")
    assert.strictEqual(Text.decode(Uint8Array.from(Buffer.from("d83dde000041", "hex")), 8), "😀A")
    // a lone surrogate is carried as it is
    assert.strictEqual(Text.decode(encodeOk("a\ud800b", 8), 8), "a\ud800b")
    // a trailing odd octet shows as U+FFFD
    assert.strictEqual(Text.decode(Uint8Array.of(0x00, 0x41, 0x00), 8), "A\ufffd")
    assert.strictEqual(Text.decode(Uint8Array.of(0x00, 0x41), 0xe0), "A")
  })

  it("GSM failure names the first character and the data_coding", () => {
    const err = Text.encode("ok 😀 中", 0)
    assert.isTrue(Either.isLeft(err))
    if (Either.isLeft(err)) {
      assert.strictEqual(err.left.reason, "UnencodableCharacter")
      assert.strictEqual(err.left.character, "😀")
      assert.strictEqual(err.left.index, 3)
      assert.strictEqual(err.left.dataCoding, 0)
      assert.include(err.left.message, "GSM 03.38")
    }
  })

  it("UCS-2 round-trips any string (property)", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.fullUnicodeString({ maxLength: 200 }), (text) => {
        assert.strictEqual(Text.decode(encodeOk(text, 8), 8), text)
      })
    )
  })
})
