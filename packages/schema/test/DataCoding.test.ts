import { assert, describe, it } from "@effect/vitest"
import * as DataCoding from "../src/DataCoding.js"

describe("DataCoding", () => {
  it("names the SMPP 3.4 values", () => {
    assert.strictEqual(DataCoding.DataCoding.SMSC_DEFAULT, 0)
    assert.strictEqual(DataCoding.DataCoding.IA5, 1)
    assert.strictEqual(DataCoding.DataCoding.BINARY, 2)
    assert.strictEqual(DataCoding.DataCoding.LATIN1, 3)
    assert.strictEqual(DataCoding.DataCoding.OCTET, 4)
    assert.strictEqual(DataCoding.DataCoding.UCS2, 8)
  })

  it("maps data_coding to an alphabet; unknown values pass through as octets", () => {
    assert.strictEqual(DataCoding.alphabet(0), "Gsm7")
    assert.strictEqual(DataCoding.alphabet(1), "Ia5")
    assert.strictEqual(DataCoding.alphabet(2), "Octet")
    assert.strictEqual(DataCoding.alphabet(3), "Latin1")
    assert.strictEqual(DataCoding.alphabet(4), "Octet")
    assert.strictEqual(DataCoding.alphabet(8), "Ucs2")
    for (const other of [5, 6, 7, 9, 10, 13, 14, 0x10, 0x3f, 0xbf]) {
      assert.strictEqual(DataCoding.alphabet(other), "Octet", `data_coding ${other}`)
    }
    // GSM 03.38 coding groups
    assert.strictEqual(DataCoding.alphabet(0xf0), "Gsm7")
    assert.strictEqual(DataCoding.alphabet(0xf4), "Octet")
    assert.strictEqual(DataCoding.alphabet(0xc8), "Gsm7")
    assert.strictEqual(DataCoding.alphabet(0xe0), "Ucs2")
  })

  it("chooses GSM when every character fits (extension included), else UCS-2", () => {
    assert.strictEqual(DataCoding.choose(""), 0)
    assert.strictEqual(DataCoding.choose("Hello, world! @£$"), 0)
    assert.strictEqual(DataCoding.choose("price: 5€ {x} [y] ~|^\\"), 0)
    assert.strictEqual(DataCoding.choose("ΔΦΓ ÄÖÑÜ äöñüà"), 0)
    assert.strictEqual(DataCoding.choose("ça va"), 8)
    assert.strictEqual(DataCoding.choose("hi 😀"), 8)
    assert.strictEqual(DataCoding.choose("`"), 8)
  })
})
