/**
 * SMPP 3.4 time strings (section 7.1.1): 16 characters, carried as a 17-octet C-Octet
 * String (schedule_delivery_time, validity_period, final_date).
 *
 * - absolute `YYMMDDhhmmsstnnp`: `t` tenths of a second, `nn` quarter hours from UTC
 *   (00–48), `p` `+` (ahead of UTC) or `-` (behind);
 * - relative `YYMMDDhhmmss000R`: a period to add to the SMSC's current time.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"

/**
 * An absolute time. `year` is the full year (two-digit years 00–37 are 2000–2037,
 * 38–99 are 1938–1999); `offsetQuarterHours` is signed, −48 … 48.
 *
 * @since 0.1.0
 * @category models
 */
export interface Absolute {
  readonly _tag: "Absolute"
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
  readonly tenths: number
  readonly offsetQuarterHours: number
}

/**
 * A relative time: each field 0–99, as written in the string (no normalisation, so
 * `hours: 36` stays 36).
 *
 * @since 0.1.0
 * @category models
 */
export interface Relative {
  readonly _tag: "Relative"
  readonly years: number
  readonly months: number
  readonly days: number
  readonly hours: number
  readonly minutes: number
  readonly seconds: number
}

/**
 * @since 0.1.0
 * @category models
 */
export type SmppTime = Absolute | Relative

/**
 * @since 0.1.0
 * @category constructors
 */
export const absolute = (fields: Omit<Absolute, "_tag">): Absolute => ({ _tag: "Absolute", ...fields })

/**
 * @since 0.1.0
 * @category constructors
 */
export const relative = (fields: Omit<Relative, "_tag">): Relative => ({ _tag: "Relative", ...fields })

/**
 * Why a string is not an SMPP time.
 *
 * @since 0.1.0
 * @category errors
 */
export type SmppTimeErrorReason =
  | "WrongLength"
  | "BadDigit"
  | "InvalidMonth"
  | "InvalidDay"
  | "InvalidHour"
  | "InvalidMinute"
  | "InvalidSecond"
  | "InvalidOffset"
  | "InvalidSign"
  | "InvalidRelative"

/**
 * @since 0.1.0
 * @category errors
 */
export class SmppTimeError extends Data.TaggedError("SmppTimeError")<{
  readonly reason: SmppTimeErrorReason
  readonly input: string
  readonly message: string
}> {}

/**
 * The length of a time string, without its terminating NUL.
 *
 * @since 0.1.0
 * @category constants
 */
export const LENGTH = 16

const MINUTE = 60_000
const QUARTER_HOUR = 15 * MINUTE
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * Two-digit years 00–37 are 2000–2037, 38–99 are 1938–1999.
 *
 * @since 0.1.0
 * @category utils
 */
export const fullYear = (yy: number): number => (yy < 38 ? 2000 + yy : 1900 + yy)

/**
 * Days in a month (1–12) of a full year, Gregorian leap years included.
 *
 * @since 0.1.0
 * @category utils
 */
export const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
    : month === 4 || month === 6 || month === 9 || month === 11
    ? 30
    : 31

// two decimal digits at i, or -1 when either is not a digit
const twoDigits = (s: string, i: number): number => {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

const pad2 = (n: number): string => (n < 10 ? "0" + n : String(n))

const fail = (reason: SmppTimeErrorReason, input: string, message: string) =>
  Either.left(new SmppTimeError({ reason, input, message }))

/**
 * Parses a 16-character time string. The empty string is not a time: fields where a
 * time is optional handle `""` before calling this.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: string): Either.Either<SmppTime, SmppTimeError> => {
  if (input.length !== LENGTH) {
    return fail("WrongLength", input, `expected ${LENGTH} characters, got ${input.length}`)
  }
  const yy = twoDigits(input, 0)
  const mm = twoDigits(input, 2)
  const dd = twoDigits(input, 4)
  const hh = twoDigits(input, 6)
  const mi = twoDigits(input, 8)
  const ss = twoDigits(input, 10)
  const t = twoDigits(input, 12) // t and the first n; checked apart below
  const nn = twoDigits(input, 13)
  if ((yy | mm | dd | hh | mi | ss | t | nn) < 0) {
    return fail("BadDigit", input, "characters 1–15 must be decimal digits")
  }
  const p = input[15]
  if (p === "R") {
    if (t !== 0 || nn !== 0) {
      return fail("InvalidRelative", input, "a relative time must end in 000R")
    }
    return Either.right({ _tag: "Relative", years: yy, months: mm, days: dd, hours: hh, minutes: mi, seconds: ss })
  }
  if (p !== "+" && p !== "-") {
    return fail("InvalidSign", input, `the last character must be '+', '-' or 'R', got '${p}'`)
  }
  if (mm < 1 || mm > 12) return fail("InvalidMonth", input, `month ${mm} is not 01–12`)
  const year = fullYear(yy)
  if (dd < 1 || dd > daysInMonth(year, mm)) {
    return fail("InvalidDay", input, `day ${dd} is not in ${year}-${pad2(mm)}`)
  }
  if (hh > 23) return fail("InvalidHour", input, `hour ${hh} is not 00–23`)
  if (mi > 59) return fail("InvalidMinute", input, `minute ${mi} is not 00–59`)
  if (ss > 59) return fail("InvalidSecond", input, `second ${ss} is not 00–59`)
  if (nn > 48) return fail("InvalidOffset", input, `offset ${nn} quarter hours is more than 48`)
  return Either.right({
    _tag: "Absolute",
    year,
    month: mm,
    day: dd,
    hour: hh,
    minute: mi,
    second: ss,
    tenths: (t / 10) | 0,
    // "00-" is UTC too; never produce -0
    offsetQuarterHours: p === "-" && nn !== 0 ? -nn : nn
  })
}

/**
 * Writes a time as its 16-character string. Fields are written as given: the year as
 * `year mod 100`, so only 1938–2037 read back the same; offset magnitude 0–48.
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (time: SmppTime): string => {
  if (time._tag === "Relative") {
    return pad2(time.years) + pad2(time.months) + pad2(time.days) + pad2(time.hours) + pad2(time.minutes) +
      pad2(time.seconds) + "000R"
  }
  const offset = time.offsetQuarterHours
  return pad2(((time.year % 100) + 100) % 100) + pad2(time.month) + pad2(time.day) + pad2(time.hour) +
    pad2(time.minute) + pad2(time.second) + String(time.tenths) + pad2(Math.abs(offset)) + (offset < 0 ? "-" : "+")
}

/**
 * The UTC instant of an absolute time, in epoch milliseconds.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toEpochMillis = (time: Absolute): number =>
  Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second, time.tenths * 100) -
  time.offsetQuarterHours * QUARTER_HOUR

/**
 * The absolute time of an instant, written in the given offset from UTC (quarter hours,
 * −48 … 48; default UTC). Milliseconds below a tenth of a second are dropped.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromEpochMillis = (millis: number, offsetQuarterHours = 0): Absolute => {
  const local = new Date(millis + offsetQuarterHours * QUARTER_HOUR)
  return {
    _tag: "Absolute",
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    tenths: Math.floor(local.getUTCMilliseconds() / 100),
    offsetQuarterHours: offsetQuarterHours === 0 ? 0 : offsetQuarterHours
  }
}

/**
 * The instant a time stands for, given the current instant `nowMillis` (from `Clock`).
 * A relative time adds its years and months on the UTC calendar first — the day is
 * clamped to the end of a shorter month (Jan 31 + 1 month = Feb 28/29) — then its days,
 * hours, minutes and seconds as fixed durations.
 *
 * @since 0.1.0
 * @category conversions
 */
export const resolve = (time: SmppTime, nowMillis: number): number => {
  if (time._tag === "Absolute") return toEpochMillis(time)
  const now = new Date(nowMillis)
  const monthIndex = now.getUTCFullYear() * 12 + now.getUTCMonth() + time.years * 12 + time.months
  const year = Math.floor(monthIndex / 12)
  const month = monthIndex - year * 12
  const day = Math.min(now.getUTCDate(), daysInMonth(year, month + 1))
  const shifted = Date.UTC(
    year,
    month,
    day,
    now.getUTCHours(),
    now.getUTCMinutes(),
    now.getUTCSeconds(),
    now.getUTCMilliseconds()
  )
  return shifted + time.days * DAY + time.hours * HOUR + time.minutes * MINUTE + time.seconds * 1000
}

/**
 * Whether a string is a valid 16-character time.
 *
 * @since 0.1.0
 * @category guards
 */
export const isTimeString = (input: string): boolean => Either.isRight(parse(input))

/**
 * The field form of schedule_delivery_time, validity_period and final_date: `""` (not
 * set) or a valid 16-character time.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TimeString = Schema.String.pipe(
  Schema.filter((input) => {
    if (input === "") return true
    const result = parse(input)
    return Either.isRight(result) || result.left.message
  }, {
    identifier: "TimeString",
    description: "an SMPP time (YYMMDDhhmmsstnnp or YYMMDDhhmmss000R) or the empty string"
  })
)
