/**
 * SMPP 3.4 data_coding values (section 5.2.19) and the alphabet each one means here.
 *
 * 0 (SMSC default) is taken as the GSM 03.38 default alphabet. Values without an
 * alphabet of their own here (JIS, Cyrillic, Hebrew, pictogram, …) pass through: their
 * octets are carried unchanged, as opaque data.
 *
 * @since 0.1.0
 */
import * as Gsm7 from "./Gsm7.js"

/**
 * @since 0.1.0
 * @category constants
 */
export const DataCoding = {
  /** SMSC default alphabet: GSM 03.38 here. */
  SMSC_DEFAULT: 0x00,
  /** IA5 (CCITT T.50) / ASCII. */
  IA5: 0x01,
  /** Octet unspecified (8-bit binary). */
  BINARY: 0x02,
  /** Latin-1 (ISO-8859-1). */
  LATIN1: 0x03,
  /** Octet unspecified (8-bit binary). */
  OCTET: 0x04,
  /** UCS-2, carried here as UTF-16BE (surrogate pairs kept). */
  UCS2: 0x08
} as const

/**
 * How the octets of a data_coding are turned into text.
 *
 * @since 0.1.0
 * @category models
 */
export type Alphabet = "Gsm7" | "Ia5" | "Latin1" | "Octet" | "Ucs2"

/**
 * The alphabet of a data_coding value. Besides 0–4 and 8, the GSM 03.38 coding groups
 * that SMPP 3.4 refers to are read: 0xC0–0xDF (message waiting, GSM 7-bit), 0xE0–0xEF
 * (message waiting, UCS-2), 0xF0–0xFF (bit 2: 8-bit data, else GSM 7-bit). Anything else
 * is `Octet` (pass through).
 *
 * @since 0.1.0
 * @category utils
 */
export const alphabet = (dataCoding: number): Alphabet => {
  switch (dataCoding) {
    case DataCoding.SMSC_DEFAULT:
      return "Gsm7"
    case DataCoding.IA5:
      return "Ia5"
    case DataCoding.LATIN1:
      return "Latin1"
    case DataCoding.UCS2:
      return "Ucs2"
  }
  if (dataCoding >= 0xc0 && dataCoding <= 0xdf) return "Gsm7"
  if (dataCoding >= 0xe0 && dataCoding <= 0xef) return "Ucs2"
  if (dataCoding >= 0xf0 && dataCoding <= 0xff) return (dataCoding & 0x04) === 0 ? "Gsm7" : "Octet"
  return "Octet"
}

/**
 * The data_coding to send `text` with: GSM 03.38 (0) when every character fits the
 * default alphabet or its extension table, else UCS-2 (8). Callers that want another
 * coding pass it explicitly instead.
 *
 * @since 0.1.0
 * @category utils
 */
export const choose = (text: string): 0 | 8 => (Gsm7.isEncodable(text) ? DataCoding.SMSC_DEFAULT : DataCoding.UCS2)
