import { assert, describe, it } from "@effect/vitest"
import { Either, Option } from "effect"
import * as FastCheck from "effect/FastCheck"
import * as DeliveryReceipt from "../src/DeliveryReceipt.js"
import { MessageState } from "../src/MessageState.js"

const parseOk = (input: string): DeliveryReceipt.DeliveryReceipt => {
  const result = DeliveryReceipt.parse(input)
  if (Either.isLeft(result)) assert.fail(`${input}: ${result.left.message}`)
  return result.right
}

const date = (
  raw: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second = 0
): DeliveryReceipt.ReceiptDate => ({ raw, value: { year, month, day, hour, minute, second } })

describe("DeliveryReceipt", () => {
  describe("parse: receipts seen in the wild", () => {
    it("the specification's example layout", () => {
      assert.deepStrictEqual(
        parseOk(
          "id:0123456789 sub:001 dlvrd:001 submit date:0610191018 done date:0610191018 stat:DELIVRD err:000 text:Hello world"
        ),
        {
          id: "0123456789",
          sub: "001",
          dlvrd: "001",
          submitDate: date("0610191018", 2006, 10, 19, 10, 18),
          doneDate: date("0610191018", 2006, 10, 19, 10, 18),
          stat: "DELIVRD",
          messageState: MessageState.DELIVERED,
          err: "000",
          text: "Hello world"
        }
      )
    })

    it("an intermediate ENROUTE receipt with a network error (RestComm SMSC)", () => {
      const r = parseOk(
        "id:0512249005 sub:001 dlvrd:000 submit date:1609051327 done date:1609051337 stat:ENROUTE err:054 text:xxssxx"
      )
      assert.strictEqual(r.messageState, MessageState.ENROUTE)
      assert.strictEqual(r.err, "054")
      assert.strictEqual(r.dlvrd, "000")
      assert.deepStrictEqual(r.doneDate, date("1609051337", 2016, 9, 5, 13, 37))
      assert.strictEqual(r.text, "xxssxx")
    })

    it("an empty text:", () => {
      const r = parseOk(
        "id:0512249005 sub:001 dlvrd:000 submit date:1609051327 done date:1609051337 stat:ENROUTE err:054 text:"
      )
      assert.strictEqual(r.text, "")
      assert.strictEqual(r.err, "054")
    })

    it("an 18-digit decimal id and a 4-digit err", () => {
      const r = parseOk(
        "id:117062714244798261 sub:001 dlvrd:001 submit date:1706271624 done date:1706271624 stat:DELIVRD err:0000 text:Hllo world"
      )
      assert.strictEqual(r.id, "117062714244798261")
      assert.strictEqual(r.err, "0000")
      assert.strictEqual(r.text, "Hllo world")
      assert.deepStrictEqual(DeliveryReceipt.idAsHex(r.id), Option.some("19fe3eb1b011735"))
    })

    it("a 32-character hex id, UNDELIV", () => {
      const r = parseOk(
        "id:6C7C7DE28BB3E961947700000000FE37 sub:001 dlvrd:000 submit date:1907311208 done date:1907311208 stat:UNDELIV err:001 text:Ceci est un tet."
      )
      assert.strictEqual(r.id, "6C7C7DE28BB3E961947700000000FE37")
      assert.strictEqual(r.stat, "UNDELIV")
      assert.strictEqual(r.messageState, MessageState.UNDELIVERABLE)
      assert.strictEqual(r.text, "Ceci est un tet.")
      assert.deepStrictEqual(
        DeliveryReceipt.idAsDecimal(r.id),
        Option.some("144203021605230333780392919994464271927")
      )
    })

    it("no sub, no dlvrd, no text", () => {
      assert.deepStrictEqual(
        parseOk("id:0654354026 submit date:2302101454 done date:2302101454 stat:DELIVRD err:000"),
        {
          id: "0654354026",
          submitDate: date("2302101454", 2023, 2, 10, 14, 54),
          doneDate: date("2302101454", 2023, 2, 10, 14, 54),
          stat: "DELIVRD",
          messageState: MessageState.DELIVERED,
          err: "000"
        }
      )
    })

    it("a UUID id, dates with seconds and Text: (jasmin-style ids)", () => {
      const r = parseOk(
        "id:16fd2706-8baf-433b-82eb-8c7fada847da sub:001 dlvrd:001 submit date:230512143015 done date:230512143122 stat:DELIVRD err:000 Text:Your code is 1234"
      )
      assert.strictEqual(r.id, "16fd2706-8baf-433b-82eb-8c7fada847da")
      assert.deepStrictEqual(r.submitDate, date("230512143015", 2023, 5, 12, 14, 30, 15))
      assert.deepStrictEqual(r.doneDate, date("230512143122", 2023, 5, 12, 14, 31, 22))
      assert.strictEqual(r.text, "Your code is 1234")
      assert.isTrue(Option.isNone(DeliveryReceipt.idAsDecimal(r.id)))
    })

    it("four-digit years and a lower-case stat", () => {
      const r = parseOk(
        "id:12345 sub:001 dlvrd:001 submit date:20240315093000 done date:20240315093105 stat:delivrd err:0 text:x"
      )
      assert.strictEqual(r.stat, "DELIVRD")
      assert.strictEqual(r.messageState, MessageState.DELIVERED)
      assert.deepStrictEqual(r.submitDate, date("20240315093000", 2024, 3, 15, 9, 30, 0))
      assert.deepStrictEqual(r.doneDate, date("20240315093105", 2024, 3, 15, 9, 31, 5))
      assert.strictEqual(r.err, "0")
    })

    it("keys in upper case", () => {
      assert.deepStrictEqual(
        parseOk("ID:98765 SUB:001 DLVRD:001 SUBMIT DATE:2401011200 DONE DATE:2401011201 STAT:REJECTD ERR:00B TEXT:HI"),
        {
          id: "98765",
          sub: "001",
          dlvrd: "001",
          submitDate: date("2401011200", 2024, 1, 1, 12, 0),
          doneDate: date("2401011201", 2024, 1, 1, 12, 1),
          stat: "REJECTD",
          messageState: MessageState.REJECTED,
          err: "00B",
          text: "HI"
        }
      )
    })

    it("vendor stat words: kept verbatim, mapped only where obvious (mBlox BUFFRED / ACKED / FAILED)", () => {
      const base = "id:1234567890 sub:001 dlvrd:000 submit date:1506271200 done date:1506271201"
      const buffred = parseOk(`${base} stat:BUFFRED err:000 text:`)
      assert.strictEqual(buffred.stat, "BUFFRED")
      assert.strictEqual(buffred.messageState, MessageState.ENROUTE)
      const acked = parseOk(`${base} stat:acked err:000 text:`)
      assert.strictEqual(acked.stat, "ACKED")
      assert.isUndefined(acked.messageState)
      assert.isFalse("messageState" in acked)
      const failed = parseOk(`${base} stat:FAILED err:A12 text:`)
      assert.strictEqual(failed.stat, "FAILED")
      assert.strictEqual(failed.messageState, MessageState.UNDELIVERABLE)
      assert.strictEqual(failed.err, "A12")
    })

    it("extra spaces, an unknown key and a text with colons and spaces", () => {
      assert.deepStrictEqual(
        parseOk(
          "  id:7   sub:001  dlvrd:001 submit date:1801010000   done date:1801010001 stat:EXPIRED  err:000 mccmnc:26201 text:Meet at 10:30: ok?  "
        ),
        {
          id: "7",
          sub: "001",
          dlvrd: "001",
          submitDate: date("1801010000", 2018, 1, 1, 0, 0),
          doneDate: date("1801010001", 2018, 1, 1, 0, 1),
          stat: "EXPIRED",
          messageState: MessageState.EXPIRED,
          err: "000",
          text: "Meet at 10:30: ok?  "
        }
      )
    })

    it("underscored date keys and txt: (SMGP-style)", () => {
      const r = parseOk("id:a1b2c3 sub:001 dlvrd:001 submit_date:1807052207 done_date:1807052207 stat:DELIVRD err:000 txt:hello")
      assert.deepStrictEqual(r.submitDate, date("1807052207", 2018, 7, 5, 22, 7))
      assert.deepStrictEqual(r.doneDate, date("1807052207", 2018, 7, 5, 22, 7))
      assert.strictEqual(r.text, "hello")
    })

    it("spaces after colons and empty values", () => {
      const r = parseOk("id: 42 sub: dlvrd:1 submit date: 2401011200 done date:2401011201 stat: DELETED err: 5 text: hi")
      assert.strictEqual(r.id, "42")
      assert.strictEqual(r.sub, "")
      assert.strictEqual(r.dlvrd, "1")
      assert.deepStrictEqual(r.submitDate, date("2401011200", 2024, 1, 1, 12, 0))
      assert.strictEqual(r.stat, "DELETED")
      assert.strictEqual(r.messageState, MessageState.DELETED)
      assert.strictEqual(r.err, "5")
      assert.strictEqual(r.text, " hi")
    })

    it("fields in another order, and a prefix before id", () => {
      const r = parseOk("DLR stat:ACCEPTD err:000 id:0000A1F3 done date:9912312359 text:ok")
      assert.strictEqual(r.id, "0000A1F3")
      assert.strictEqual(r.messageState, MessageState.ACCEPTED)
      assert.deepStrictEqual(r.doneDate, date("9912312359", 1999, 12, 31, 23, 59))
      assert.deepStrictEqual(DeliveryReceipt.idAsDecimal(r.id), Option.some("41459"))
    })

    it("line breaks between fields and UNKNOWN", () => {
      const r = parseOk("id:1\r\nsub:001\ndlvrd:000\tstat:UNKNOWN\r\nerr:999")
      assert.strictEqual(r.sub, "001")
      assert.strictEqual(r.dlvrd, "000")
      assert.strictEqual(r.messageState, MessageState.UNKNOWN)
      assert.strictEqual(r.err, "999")
    })

    it("keeps the raw digits of a date that does not parse", () => {
      const r = parseOk(
        "id:55 sub:001 dlvrd:000 submit date:0000000000 done date:24013 stat:UNDELIV err:000 text:"
      )
      assert.deepStrictEqual(r.submitDate, { raw: "0000000000" })
      assert.deepStrictEqual(r.doneDate, { raw: "24013" })
    })

    it("keeps the first of a repeated key", () => {
      assert.strictEqual(parseOk("id:1 stat:DELIVRD stat:UNDELIV").stat, "DELIVRD")
    })
  })

  describe("parse: not a receipt", () => {
    const reasonOf = (input: string) => {
      const result = DeliveryReceipt.parse(input)
      if (Either.isRight(result)) assert.fail(`parsed ${JSON.stringify(result.right)}`)
      assert.strictEqual(result.left._tag, "DeliveryReceiptError")
      assert.strictEqual(result.left.input, input)
      return result.left.reason
    }

    it("needs an id", () => {
      assert.strictEqual(reasonOf(""), "MissingId")
      assert.strictEqual(reasonOf("Hello: how are you?"), "MissingId")
      assert.strictEqual(reasonOf("sub:001 dlvrd:001 stat:DELIVRD"), "MissingId")
      assert.strictEqual(reasonOf("id: stat:DELIVRD"), "MissingId")
      // an id inside the text is text, not an id
      assert.strictEqual(reasonOf("stat:DELIVRD text:id:123"), "MissingId")
    })

    it("needs a stat", () => {
      assert.strictEqual(reasonOf("id:1 sub:001 dlvrd:001 err:000 text:x"), "MissingStat")
      assert.strictEqual(reasonOf("id:1 stat: err:000"), "MissingStat")
      assert.strictEqual(reasonOf("id:1 text:stat:DELIVRD"), "MissingStat")
    })
  })

  describe("parseDate", () => {
    it("pivots two-digit years at 38", () => {
      assert.strictEqual(DeliveryReceipt.parseDate("3712312359").value?.year, 2037)
      assert.strictEqual(DeliveryReceipt.parseDate("3801010000").value?.year, 1938)
      assert.strictEqual(DeliveryReceipt.parseDate("0001010000").value?.year, 2000)
      assert.strictEqual(DeliveryReceipt.parseDate("19700101000000").value?.year, 1970)
    })

    it("checks the calendar", () => {
      assert.isDefined(DeliveryReceipt.parseDate("2402291200").value)
      for (const raw of ["2302291200", "2413011200", "2401322359", "2401012400", "2401012360", "240101235960"]) {
        assert.deepStrictEqual(DeliveryReceipt.parseDate(raw), { raw })
      }
      for (const raw of ["24010112", "2401011200000", "24O1011200", ""]) {
        assert.deepStrictEqual(DeliveryReceipt.parseDate(raw), { raw })
      }
    })

    it("converts to and from instants on the UTC calendar", () => {
      const millis = Date.parse("2024-03-15T09:30:45.123Z")
      const d = DeliveryReceipt.dateFromEpochMillis(millis)
      assert.deepStrictEqual(d, date("2403150930", 2024, 3, 15, 9, 30, 45))
      assert.strictEqual(DeliveryReceipt.dateToEpochMillis(d.value!), Date.parse("2024-03-15T09:30:45Z"))
    })
  })

  describe("format", () => {
    it("writes the exact appendix B layout", () => {
      assert.strictEqual(
        DeliveryReceipt.format({
          id: "0123456789",
          sub: "1",
          dlvrd: "1",
          submitDate: DeliveryReceipt.makeDate({ year: 2006, month: 10, day: 19, hour: 10, minute: 18, second: 33 }),
          doneDate: DeliveryReceipt.parseDate("20061019101905"),
          stat: "delivrd",
          err: "0",
          text: "Hello world"
        }),
        "id:0123456789 sub:001 dlvrd:001 submit date:0610191018 done date:0610191019 stat:DELIVRD err:000 text:Hello world"
      )
    })

    it("cuts the text to 20 characters, never inside a surrogate pair", () => {
      const base = { id: "1", stat: "UNDELIV" }
      assert.strictEqual(
        DeliveryReceipt.format({ ...base, text: "abcdefghijklmnopqrstuvwxyz" }),
        "id:1 stat:UNDELIV text:abcdefghijklmnopqrst"
      )
      assert.strictEqual(
        DeliveryReceipt.format({ ...base, text: "abcdefghijklmnopqrs😀xyz" }),
        "id:1 stat:UNDELIV text:abcdefghijklmnopqrs😀"
      )
      assert.strictEqual(DeliveryReceipt.format({ ...base, text: "" }), "id:1 stat:UNDELIV text:")
    })

    it("leaves out absent fields and writes what it cannot normalise as given", () => {
      assert.strictEqual(DeliveryReceipt.format({ id: "abc", stat: "ACKED" }), "id:abc stat:ACKED")
      assert.strictEqual(
        DeliveryReceipt.format({ id: "x", sub: "1000", dlvrd: "ab", doneDate: { raw: "24013" }, stat: "X", err: "G1" }),
        "id:x sub:1000 dlvrd:ab done date:24013 stat:X err:G1"
      )
    })

    it("parse(format(r)) = r", () => {
      const dateArb = FastCheck.date({ min: new Date("1938-01-01T00:00:00Z"), max: new Date("2037-12-31T23:59:00Z") })
        .map((d) => {
          const { value } = DeliveryReceipt.dateFromEpochMillis(d.getTime())
          return DeliveryReceipt.makeDate({ ...value!, second: 0 })
        })
      const states = Object.values(MessageState)
      const receiptArb = FastCheck.record({
        id: FastCheck.stringMatching(/^[0-9A-Za-z-]{1,64}$/),
        sub: FastCheck.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, "0")),
        dlvrd: FastCheck.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, "0")),
        submitDate: dateArb,
        doneDate: dateArb,
        messageState: FastCheck.constantFrom(...states),
        err: FastCheck.stringMatching(/^[0-9A-Z]{3}$/),
        text: FastCheck.string({ maxLength: 20 })
      }, { requiredKeys: ["id", "messageState"] }).map(({ messageState, ...rest }) => {
        const stat = ["ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"][
          messageState - 1
        ]
        const r: DeliveryReceipt.DeliveryReceipt = { ...rest, stat, messageState }
        return r
      })
      FastCheck.assert(
        FastCheck.property(receiptArb, (r) => {
          const expected = { ...r }
          assert.deepStrictEqual(parseOk(DeliveryReceipt.format(r)), expected)
        }),
        { numRuns: 1000 }
      )
    })
  })

  describe("ids", () => {
    it("writes decimal ids in hex", () => {
      assert.deepStrictEqual(DeliveryReceipt.idAsHex("255"), Option.some("ff"))
      assert.deepStrictEqual(DeliveryReceipt.idAsHex("255", { uppercase: true, width: 8 }), Option.some("000000FF"))
      assert.deepStrictEqual(DeliveryReceipt.idAsHex("0"), Option.some("0"))
      assert.deepStrictEqual(
        DeliveryReceipt.idAsHex("18446744073709551615"),
        Option.some("ffffffffffffffff")
      )
    })

    it("writes hex ids in decimal", () => {
      assert.deepStrictEqual(DeliveryReceipt.idAsDecimal("ff"), Option.some("255"))
      assert.deepStrictEqual(DeliveryReceipt.idAsDecimal("0A1B2C3D", { width: 10 }), Option.some("0169552957"))
      assert.deepStrictEqual(DeliveryReceipt.idAsDecimal("FFFFFFFFFFFFFFFF"), Option.some("18446744073709551615"))
    })

    it("refuses what is not a number in that base, or too long for a message_id", () => {
      assert.isTrue(Option.isNone(DeliveryReceipt.idAsHex("ff")))
      assert.isTrue(Option.isNone(DeliveryReceipt.idAsHex("")))
      assert.isTrue(Option.isNone(DeliveryReceipt.idAsHex("-1")))
      assert.isTrue(Option.isNone(DeliveryReceipt.idAsDecimal("0x10")))
      assert.isTrue(Option.isNone(DeliveryReceipt.idAsDecimal("g1")))
      assert.isTrue(Option.isNone(DeliveryReceipt.idAsDecimal("")))
      assert.isTrue(Option.isNone(DeliveryReceipt.idAsHex("1".repeat(65))))
      assert.isTrue(Option.isSome(DeliveryReceipt.idAsHex("9".repeat(64))))
    })

    it("round-trips between the bases", () => {
      FastCheck.assert(
        FastCheck.property(FastCheck.bigInt({ min: 0n, max: (1n << 200n) - 1n }), (n) => {
          const hex = Option.getOrThrow(DeliveryReceipt.idAsHex(n.toString()))
          assert.strictEqual(hex, n.toString(16))
          assert.strictEqual(Option.getOrThrow(DeliveryReceipt.idAsDecimal(hex)), n.toString())
        })
      )
    })
  })
})
