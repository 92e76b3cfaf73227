import { assert, describe, it } from "@effect/vitest"
import { latin1 } from "../src/internal/bytes.js"

// Every C-Octet string of every PDU is decoded by `latin1`, which builds short strings in
// pieces of 8: each length and offset is checked against the obvious decoding.
describe("latin1 (C-Octet string decoding)", () => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff)
  const reference = (from: number, to: number) => Array.from(bytes.subarray(from, to), (b) => String.fromCharCode(b)).join("")

  it("decodes every length from 0 to 200 at several offsets, octets above 0x7f included", () => {
    for (const offset of [0, 1, 7, 13]) {
      for (let n = 0; n <= 200; n++) {
        assert.strictEqual(latin1(bytes, offset, offset + n), reference(offset, offset + n), `offset ${offset}, length ${n}`)
      }
    }
  })
})
