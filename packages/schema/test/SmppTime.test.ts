import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as FastCheck from "effect/FastCheck"
import * as SmppTime from "../src/SmppTime.js"

const parseOk = (input: string): SmppTime.SmppTime => {
  const result = SmppTime.parse(input)
  if (Either.isLeft(result)) assert.fail(`${input}: ${result.left.message}`)
  return result.right
}

const reasonOf = (input: string): SmppTime.SmppTimeErrorReason => {
  const result = SmppTime.parse(input)
  if (Either.isRight(result)) assert.fail(`${input} parsed as ${JSON.stringify(result.right)}`)
  assert.strictEqual(result.left._tag, "SmppTimeError")
  assert.strictEqual(result.left.input, input)
  return result.left.reason
}

const absoluteArb: FastCheck.Arbitrary<SmppTime.Absolute> = FastCheck.tuple(
  FastCheck.integer({ min: 1938, max: 2037 }),
  FastCheck.integer({ min: 1, max: 12 })
).chain(([year, month]) =>
  FastCheck.record({
    day: FastCheck.integer({ min: 1, max: SmppTime.daysInMonth(year, month) }),
    hour: FastCheck.integer({ min: 0, max: 23 }),
    minute: FastCheck.integer({ min: 0, max: 59 }),
    second: FastCheck.integer({ min: 0, max: 59 }),
    tenths: FastCheck.integer({ min: 0, max: 9 }),
    offsetQuarterHours: FastCheck.integer({ min: -48, max: 48 })
  }).map((rest) => SmppTime.absolute({ year, month, ...rest }))
)

const field = FastCheck.integer({ min: 0, max: 99 })
const relativeArb: FastCheck.Arbitrary<SmppTime.Relative> = FastCheck.record({
  years: field,
  months: field,
  days: field,
  hours: field,
  minutes: field,
  seconds: field
}).map(SmppTime.relative)

describe("SmppTime", () => {
  describe("parse / format", () => {
    it("reads an absolute time ahead of UTC", () => {
      assert.deepStrictEqual(
        parseOk("240229134501308+"),
        SmppTime.absolute({
          year: 2024,
          month: 2,
          day: 29,
          hour: 13,
          minute: 45,
          second: 1,
          tenths: 3,
          offsetQuarterHours: 8
        })
      )
    })

    it("reads an absolute time behind UTC", () => {
      assert.deepStrictEqual(
        parseOk("991231235959948-"),
        SmppTime.absolute({
          year: 1999,
          month: 12,
          day: 31,
          hour: 23,
          minute: 59,
          second: 59,
          tenths: 9,
          offsetQuarterHours: -48
        })
      )
    })

    it("reads '00-' as UTC, never -0", () => {
      const t = parseOk("000101000000000-") as SmppTime.Absolute
      assert.isTrue(Object.is(t.offsetQuarterHours, 0))
      assert.strictEqual(SmppTime.format(t), "000101000000000+")
    })

    it("reads a relative time", () => {
      assert.deepStrictEqual(
        parseOk("020610233429000R"),
        SmppTime.relative({ years: 2, months: 6, days: 10, hours: 23, minutes: 34, seconds: 29 })
      )
      // relative fields are periods, not clock readings: 99 of each is allowed
      assert.deepStrictEqual(
        parseOk("999999999999000R"),
        SmppTime.relative({ years: 99, months: 99, days: 99, hours: 99, minutes: 99, seconds: 99 })
      )
    })

    it("formats exactly", () => {
      assert.strictEqual(
        SmppTime.format(
          SmppTime.absolute({
            year: 2005,
            month: 3,
            day: 7,
            hour: 8,
            minute: 9,
            second: 4,
            tenths: 0,
            offsetQuarterHours: -4
          })
        ),
        "050307080904004-"
      )
      assert.strictEqual(
        SmppTime.format(SmppTime.relative({ years: 0, months: 0, days: 1, hours: 2, minutes: 0, seconds: 30 })),
        "000001020030000R"
      )
      assert.strictEqual(SmppTime.format(parseOk("371231235959948+")).length, SmppTime.LENGTH)
    })

    it("round-trips the strings it reads", () => {
      for (
        const s of [
          "240229134501308+",
          "991231235959948-",
          "000101000000000+",
          "380101000000012-",
          "370715120000448+",
          "000000000001000R",
          "020610233429000R"
        ]
      ) {
        assert.strictEqual(SmppTime.format(parseOk(s)), s)
      }
    })

    it("parse(format(t)) = t for every valid absolute time", () => {
      FastCheck.assert(
        FastCheck.property(absoluteArb, (t) => {
          const s = SmppTime.format(t)
          assert.strictEqual(s.length, 16)
          assert.deepStrictEqual(parseOk(s), t)
        }),
        { numRuns: 2000 }
      )
    })

    it("parse(format(t)) = t for every relative time", () => {
      FastCheck.assert(
        FastCheck.property(relativeArb, (t) => {
          assert.deepStrictEqual(parseOk(SmppTime.format(t)), t)
        })
      )
    })
  })

  describe("year pivot", () => {
    it("reads 00–37 as 20xx and 38–99 as 19xx", () => {
      const yearOf = (yy: string) => (parseOk(`${yy}0101000000000+`) as SmppTime.Absolute).year
      assert.strictEqual(yearOf("00"), 2000)
      assert.strictEqual(yearOf("24"), 2024)
      assert.strictEqual(yearOf("37"), 2037)
      assert.strictEqual(yearOf("38"), 1938)
      assert.strictEqual(yearOf("99"), 1999)
      assert.strictEqual(SmppTime.fullYear(37), 2037)
      assert.strictEqual(SmppTime.fullYear(38), 1938)
    })

    it("checks February 29 against the pivoted year", () => {
      assert.strictEqual(parseOk("000229000000000+")._tag, "Absolute") // 2000: leap
      assert.strictEqual(parseOk("400229000000000+")._tag, "Absolute") // 1940: leap
      assert.strictEqual(reasonOf("010229000000000+"), "InvalidDay") // 2001
      assert.strictEqual(reasonOf("990229000000000+"), "InvalidDay") // 1999
    })
  })

  describe("invalid input", () => {
    it("rejects the wrong length, the empty string included", () => {
      assert.strictEqual(reasonOf(""), "WrongLength")
      assert.strictEqual(reasonOf("24022913450130+"), "WrongLength")
      assert.strictEqual(reasonOf("240229134501308+0"), "WrongLength")
      assert.strictEqual(reasonOf("240229134501308+\u0000"), "WrongLength")
    })

    it("rejects non-digits", () => {
      assert.strictEqual(reasonOf("2402291345013a8+"), "BadDigit")
      assert.strictEqual(reasonOf("x40229134501308+"), "BadDigit")
      assert.strictEqual(reasonOf("24 229134501308+"), "BadDigit")
      assert.strictEqual(reasonOf("02061023342900xR"), "BadDigit")
    })

    it("rejects impossible dates and clock readings", () => {
      assert.strictEqual(reasonOf("241301000000000+"), "InvalidMonth")
      assert.strictEqual(reasonOf("240001000000000+"), "InvalidMonth")
      assert.strictEqual(reasonOf("240132000000000+"), "InvalidDay")
      assert.strictEqual(reasonOf("240100000000000+"), "InvalidDay")
      assert.strictEqual(reasonOf("240431000000000+"), "InvalidDay")
      assert.strictEqual(reasonOf("240101240000000+"), "InvalidHour")
      assert.strictEqual(reasonOf("240101236000000+"), "InvalidMinute")
      assert.strictEqual(reasonOf("240101235960000+"), "InvalidSecond")
    })

    it("rejects an offset beyond 48 quarter hours", () => {
      assert.strictEqual(reasonOf("240101000000049+"), "InvalidOffset")
      assert.strictEqual(reasonOf("240101000000099-"), "InvalidOffset")
    })

    it("rejects a last character other than + - R", () => {
      assert.strictEqual(reasonOf("240101000000000Z"), "InvalidSign")
      assert.strictEqual(reasonOf("2401010000000000"), "InvalidSign")
      assert.strictEqual(reasonOf("240101000000000r"), "InvalidSign")
    })

    it("rejects a relative time not ending in 000R", () => {
      assert.strictEqual(reasonOf("000001000000100R"), "InvalidRelative")
      assert.strictEqual(reasonOf("000001000000004R"), "InvalidRelative")
      assert.strictEqual(reasonOf("000001000000010R"), "InvalidRelative")
    })

    it("says what is wrong", () => {
      const result = SmppTime.parse("241301000000000+")
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.instanceOf(result.left, Error)
        assert.match(result.left.message, /month 13/)
      }
    })
  })

  describe("epoch conversion", () => {
    it("converts known instants", () => {
      const at = (s: string) => new Date(SmppTime.toEpochMillis(parseOk(s) as SmppTime.Absolute)).toISOString()
      assert.strictEqual(at("000101000000000+"), "2000-01-01T00:00:00.000Z")
      assert.strictEqual(at("991231235959948-"), "2000-01-01T11:59:59.900Z")
      assert.strictEqual(at("240615120000504+"), "2024-06-15T11:00:00.500Z") // UTC+1
      assert.strictEqual(at("700101000000000+"), "1970-01-01T00:00:00.000Z")
      assert.strictEqual(at("380119031407000+"), "1938-01-19T03:14:07.000Z")
      assert.strictEqual(at("000101053000022+"), "2000-01-01T00:00:00.000Z") // UTC+5:30
    })

    it("writes an instant in the given offset", () => {
      const millis = Date.parse("2000-01-01T11:59:59.987Z")
      assert.strictEqual(SmppTime.format(SmppTime.fromEpochMillis(millis, -48)), "991231235959948-")
      assert.strictEqual(SmppTime.format(SmppTime.fromEpochMillis(millis)), "000101115959900+")
      assert.strictEqual(SmppTime.format(SmppTime.fromEpochMillis(0, 4)), "700101010000004+")
    })

    it("fromEpochMillis and toEpochMillis agree to the tenth of a second", () => {
      FastCheck.assert(
        FastCheck.property(
          FastCheck.integer({ min: Date.parse("1938-01-02T00:00:00Z"), max: Date.parse("2037-12-30T00:00:00Z") }),
          FastCheck.integer({ min: -48, max: 48 }),
          (millis, offset) => {
            const t = SmppTime.fromEpochMillis(millis, offset)
            assert.strictEqual(t.offsetQuarterHours, offset)
            assert.strictEqual(SmppTime.toEpochMillis(t), millis - (((millis % 100) + 100) % 100))
            assert.deepStrictEqual(parseOk(SmppTime.format(t)), t)
          }
        ),
        { numRuns: 2000 }
      )
    })
  })

  describe("resolve", () => {
    const now = Date.parse("2024-01-31T10:00:00.250Z")
    const iso = (t: string) => new Date(SmppTime.resolve(parseOk(t), now)).toISOString()

    it("gives an absolute time its own instant", () => {
      assert.strictEqual(iso("000101000000000+"), "2000-01-01T00:00:00.000Z")
    })

    it("adds a relative time to now", () => {
      assert.strictEqual(iso("000000000000000R"), "2024-01-31T10:00:00.250Z")
      assert.strictEqual(iso("000000013000000R"), "2024-01-31T11:30:00.250Z")
      assert.strictEqual(iso("000001000000000R"), "2024-02-01T10:00:00.250Z")
      assert.strictEqual(iso("000000480000000R"), "2024-02-02T10:00:00.250Z")
      assert.strictEqual(iso("000000000099000R"), "2024-01-31T10:01:39.250Z")
    })

    it("adds months and years on the calendar, clamping the day", () => {
      assert.strictEqual(iso("000100000000000R"), "2024-02-29T10:00:00.250Z") // Jan 31 + 1 month, leap
      assert.strictEqual(iso("010100000000000R"), "2025-02-28T10:00:00.250Z")
      assert.strictEqual(iso("000300000000000R"), "2024-04-30T10:00:00.250Z")
      assert.strictEqual(iso("001200000000000R"), "2025-01-31T10:00:00.250Z")
      assert.strictEqual(iso("002300000000000R"), "2025-12-31T10:00:00.250Z")
      assert.strictEqual(iso("000101000000000R"), "2024-03-01T10:00:00.250Z") // clamp first, then days
      const mid = Date.parse("2023-03-15T00:00:00Z")
      assert.strictEqual(
        new Date(SmppTime.resolve(parseOk("010000000000000R"), mid)).toISOString(),
        "2024-03-15T00:00:00.000Z"
      )
    })
  })

  describe("TimeString schema", () => {
    const decode = Schema.decodeUnknownEither(SmppTime.TimeString)

    it("accepts the empty string and valid times", () => {
      for (const s of ["", "240229134501308+", "991231235959948-", "020610233429000R"]) {
        assert.deepStrictEqual(decode(s), Either.right(s))
      }
      assert.isTrue(Schema.is(SmppTime.TimeString)("000101000000000+"))
    })

    it("rejects anything else", () => {
      for (const s of ["2402291345013", "241301000000000+", "240101000000049+", "000001000000100R", 17, null]) {
        assert.isTrue(Either.isLeft(decode(s)), String(s))
      }
      assert.isFalse(SmppTime.isTimeString("240101240000000+"))
    })
  })
})
