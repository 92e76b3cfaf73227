/**
 * The de-facto delivery receipt text of SMPP 3.4 appendix B, carried in the
 * short_message of a deliver_sm with esm_class 0x04:
 *
 * `id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:…`
 *
 * Formatted exactly; parsed tolerantly, because every SMSC writes its own variant.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as MessageState from "./MessageState.js"

/**
 * A calendar date and time as written in a receipt (no time zone: the SMSC's local time).
 *
 * @since 0.1.0
 * @category models
 */
export interface DateParts {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
}

/**
 * A receipt date: the digits as received, and their meaning when they are a valid
 * date of 10, 12 or 14 digits (`value` is absent otherwise, and `raw` is kept).
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceiptDate {
  readonly raw: string
  readonly value?: DateParts
}

/**
 * A delivery receipt. Every field is text as received except `submitDate`/`doneDate`
 * (raw + parsed) and `messageState` (the state `stat` stands for, when known).
 *
 * @since 0.1.0
 * @category models
 */
export interface DeliveryReceipt {
  readonly id: string
  readonly sub?: string
  readonly dlvrd?: string
  readonly submitDate?: ReceiptDate
  readonly doneDate?: ReceiptDate
  /** the stat word, upper-cased, also when it is not one of table B-2 */
  readonly stat: string
  readonly messageState?: MessageState.MessageState
  readonly err?: string
  readonly text?: string
}

/**
 * @since 0.1.0
 * @category errors
 */
export class DeliveryReceiptError extends Data.TaggedError("DeliveryReceiptError")<{
  readonly reason: "MissingId" | "MissingStat"
  readonly input: string
  readonly message: string
}> {}

/**
 * The longest `text:` a formatted receipt carries, in characters.
 *
 * @since 0.1.0
 * @category constants
 */
export const TEXT_LENGTH = 20

// ---------------------------------------------------------------------------
// dates
// ---------------------------------------------------------------------------

const pad2 = (n: number): string => (n < 10 ? "0" + n : String(n))

const isDigits = (s: string): boolean => {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
    : month === 4 || month === 6 || month === 9 || month === 11
    ? 30
    : 31

const num = (s: string, from: number, to: number): number => Number(s.slice(from, to))

/**
 * Reads receipt date digits: `YYMMDDhhmm`, `YYMMDDhhmmss` or `YYYYMMDDhhmmss`
 * (two-digit years 00–37 are 20xx, 38–99 are 19xx). Anything else, or a date that does
 * not exist, keeps only `raw`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseDate = (raw: string): ReceiptDate => {
  const n = raw.length
  if ((n !== 10 && n !== 12 && n !== 14) || !isDigits(raw)) return { raw }
  const y = n === 14 ? 2 : 0 // where MM starts, less 2
  let year = n === 14 ? num(raw, 0, 4) : num(raw, 0, 2)
  if (n !== 14) year += year < 38 ? 2000 : 1900
  const month = num(raw, y + 2, y + 4)
  const day = num(raw, y + 4, y + 6)
  const hour = num(raw, y + 6, y + 8)
  const minute = num(raw, y + 8, y + 10)
  const second = n === 10 ? 0 : num(raw, y + 10, y + 12)
  if (
    month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 ||
    second > 59
  ) return { raw }
  return { raw, value: { year, month, day, hour, minute, second } }
}

/**
 * The `YYMMDDhhmm` form of a date, as a formatted receipt carries it.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatDateParts = (parts: DateParts): string =>
  pad2(((parts.year % 100) + 100) % 100) + pad2(parts.month) + pad2(parts.day) + pad2(parts.hour) +
  pad2(parts.minute)

/**
 * A receipt date from its parts; `raw` is the `YYMMDDhhmm` form.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeDate = (parts: DateParts): ReceiptDate => ({ raw: formatDateParts(parts), value: parts })

/**
 * The receipt date of an instant, on the UTC calendar.
 *
 * @since 0.1.0
 * @category constructors
 */
export const dateFromEpochMillis = (millis: number): ReceiptDate => {
  const d = new Date(millis)
  return makeDate({
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds()
  })
}

/**
 * The instant of date parts read as UTC (receipts carry no zone; shift by the SMSC's
 * offset when it is known).
 *
 * @since 0.1.0
 * @category conversions
 */
export const dateToEpochMillis = (parts: DateParts): number =>
  Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second)

// ---------------------------------------------------------------------------
// format
// ---------------------------------------------------------------------------

const pad3 = (s: string): string => (s.length < 3 && isDigits(s) ? s.padStart(3, "0") : s)

const cutText = (text: string): string => {
  if (text.length <= TEXT_LENGTH) return text
  // count code points, so that a surrogate pair is never cut in half
  let i = 0
  for (let count = 0; count < TEXT_LENGTH && i < text.length; count++) {
    const c = text.charCodeAt(i)
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1
  }
  return text.slice(0, i)
}

/**
 * Writes a receipt in the exact appendix B layout: fields in the table's order, `sub`,
 * `dlvrd` and a numeric `err` zero-padded to 3 digits, dates as `YYMMDDhhmm` (a date
 * without a parsed value is written as its raw text), `stat` upper-cased, `text` cut to
 * 20 characters. Fields absent from the receipt are left out, so `parse(format(r))`
 * gives `r` back (less the cut text and the seconds of dates).
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (receipt: DeliveryReceipt): string => {
  let out = "id:" + receipt.id
  if (receipt.sub !== undefined) out += " sub:" + pad3(receipt.sub)
  if (receipt.dlvrd !== undefined) out += " dlvrd:" + pad3(receipt.dlvrd)
  if (receipt.submitDate !== undefined) out += " submit date:" + formatDate(receipt.submitDate)
  if (receipt.doneDate !== undefined) out += " done date:" + formatDate(receipt.doneDate)
  out += " stat:" + receipt.stat.toUpperCase()
  if (receipt.err !== undefined) out += " err:" + pad3(receipt.err)
  if (receipt.text !== undefined) out += " text:" + cutText(receipt.text)
  return out
}

const formatDate = (date: ReceiptDate): string =>
  date.value === undefined ? date.raw : formatDateParts(date.value)

// ---------------------------------------------------------------------------
// parse
// ---------------------------------------------------------------------------

// a key at a token start: the two-word date keys first, else one word; spaces
// before the colon are tolerated ("err :0")
const KEY = /(submit[ _]*date|done[ _]*date|[a-z][a-z0-9_]*)[ \t]*:/iy

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13

type Field = "id" | "sub" | "dlvrd" | "submitDate" | "doneDate" | "stat" | "err"

const fieldOf = (key: string): Field | "text" | undefined => {
  switch (key.toLowerCase()) {
    case "id":
      return "id"
    case "sub":
      return "sub"
    case "dlvrd":
      return "dlvrd"
    case "stat":
      return "stat"
    case "err":
      return "err"
    case "text":
    case "txt":
      return "text"
    default:
      // "submit date", "submit_date", "submitdate", "done  date", …
      switch (key.toLowerCase().replace(/[ _]/g, "")) {
        case "submitdate":
          return "submitDate"
        case "donedate":
          return "doneDate"
        default:
          return undefined
      }
  }
}

/**
 * Reads receipt text tolerantly: keys in any letter case and order, `submit date` /
 * `submit_date`, missing fields, extra spaces (also after a colon), ids of any length
 * and alphabet, alphanumeric `err`, dates of 10, 12 or 14 digits, `text:`/`Text:`
 * running to the end (colons and spaces included), unknown `key:value` pairs and stray
 * words ignored. Only `id` and `stat` are required. The first occurrence of a key wins.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: string): Either.Either<DeliveryReceipt, DeliveryReceiptError> => {
  const values: Partial<Record<Field, string>> = {}
  let text: string | undefined
  const n = input.length
  let i = 0
  while (i < n) {
    while (i < n && isSpace(input.charCodeAt(i))) i++
    if (i >= n) break
    KEY.lastIndex = i
    const match = KEY.exec(input)
    if (match === null) {
      // a stray word: skip it
      while (i < n && !isSpace(input.charCodeAt(i))) i++
      continue
    }
    i = KEY.lastIndex
    const field = fieldOf(match[1])
    if (field === "text") {
      text = input.slice(i)
      break
    }
    // value: the run of non-space characters after the colon; spaces right after the
    // colon are skipped unless what follows is the next key ("sub: dlvrd:001")
    let start = i
    while (start < n && (input.charCodeAt(start) === 32 || input.charCodeAt(start) === 9)) start++
    let value = ""
    if (start > i && (start >= n || ((KEY.lastIndex = start), KEY.test(input)))) {
      i = start
    } else {
      let end = start
      while (end < n && !isSpace(input.charCodeAt(end))) end++
      value = input.slice(start, end)
      i = end
    }
    if (field !== undefined && values[field] === undefined) values[field] = value
  }
  const id = values.id
  if (id === undefined || id === "") {
    return Either.left(new DeliveryReceiptError({ reason: "MissingId", input, message: "no id: in receipt text" }))
  }
  if (values.stat === undefined || values.stat === "") {
    return Either.left(new DeliveryReceiptError({ reason: "MissingStat", input, message: "no stat: in receipt text" }))
  }
  const stat = values.stat.toUpperCase()
  const messageState = MessageState.fromStatWord(stat)
  const receipt: {
    -readonly [K in keyof DeliveryReceipt]: DeliveryReceipt[K]
  } = { id, stat }
  if (values.sub !== undefined) receipt.sub = values.sub
  if (values.dlvrd !== undefined) receipt.dlvrd = values.dlvrd
  if (values.submitDate !== undefined) receipt.submitDate = parseDate(values.submitDate)
  if (values.doneDate !== undefined) receipt.doneDate = parseDate(values.doneDate)
  if (messageState !== undefined) receipt.messageState = messageState
  if (values.err !== undefined) receipt.err = values.err
  if (text !== undefined) receipt.text = text
  return Either.right(receipt)
}

// ---------------------------------------------------------------------------
// ids
// ---------------------------------------------------------------------------

// message_id is a C-Octet String of at most 65 octets; longer input is not an id
const MAX_ID_LENGTH = 64

const isHex = (s: string): boolean => {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20 // fold A–F to a–f
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false
  }
  return true
}

/**
 * A decimal id written in hex (`"255"` → `"ff"`), for providers whose receipts and
 * submit_sm_resp use different bases. `None` when the id is not decimal or longer
 * than a message_id (64). Any size: BigInt does the arithmetic.
 *
 * @since 0.1.0
 * @category ids
 */
export const idAsHex = (
  id: string,
  options?: { readonly uppercase?: boolean; readonly width?: number }
): Option.Option<string> => {
  if (id.length > MAX_ID_LENGTH || !isDigits(id)) return Option.none()
  const hex = BigInt(id).toString(16).padStart(options?.width ?? 0, "0")
  return Option.some(options?.uppercase === true ? hex.toUpperCase() : hex)
}

/**
 * A hex id written in decimal (`"FF"` → `"255"`). `None` when the id is not hex or
 * longer than a message_id (64).
 *
 * @since 0.1.0
 * @category ids
 */
export const idAsDecimal = (id: string, options?: { readonly width?: number }): Option.Option<string> => {
  if (id.length > MAX_ID_LENGTH || !isHex(id)) return Option.none()
  return Option.some(BigInt("0x" + id).toString(10).padStart(options?.width ?? 0, "0"))
}
