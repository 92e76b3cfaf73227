import * as Slab from "./slab.js"

/**
 * The byte cursor under the codec: a growable output buffer, and reads over a frame.
 * Plain code over Uint8Array; nothing here allocates per field.
 */

/** A growable output buffer; several PDUs may be written into one before a socket write. */
export class ByteWriter {
  buf: Uint8Array
  pos = 0

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(initialSize)
  }

  ensure(extra: number): void {
    const need = this.pos + extra
    if (need <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < need) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  u8(value: number): void {
    this.ensure(1)
    this.buf[this.pos++] = value
  }

  u16(value: number): void {
    this.ensure(2)
    const b = this.buf
    b[this.pos++] = value >>> 8
    b[this.pos++] = value
  }

  u32(value: number): void {
    this.ensure(4)
    this.u32At(this.pos, value)
    this.pos += 4
  }

  u32At(at: number, value: number): void {
    const b = this.buf
    b[at] = value >>> 24
    b[at + 1] = value >>> 16
    b[at + 2] = value >>> 8
    b[at + 3] = value
  }

  /** Latin-1 code units then the NUL; the caller has checked every unit is 1–255. */
  cstring(value: string): void {
    const n = value.length
    this.ensure(n + 1)
    const b = this.buf
    let p = this.pos
    for (let i = 0; i < n; i++) b[p++] = value.charCodeAt(i)
    b[p++] = 0
    this.pos = p
  }

  bytes(value: Uint8Array): void {
    this.ensure(value.length)
    this.buf.set(value, this.pos)
    this.pos += value.length
  }

  /** A copy of everything written (pooled when small), and the writer emptied for reuse. */
  take(): Uint8Array {
    const out = Slab.copy(this.buf, 0, this.pos)
    this.pos = 0
    return out
  }

  reset(): void {
    this.pos = 0
  }
}

export const readU32 = (b: Uint8Array, at: number): number =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0

export const readU16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1]

const fc = String.fromCharCode

/** Up to 8 octets (n of them, 1–8) as one string, made at once. */
const upTo8 = (b: Uint8Array, f: number, n: number): string => {
  switch (n) {
    case 1:
      return fc(b[f])
    case 2:
      return fc(b[f], b[f + 1])
    case 3:
      return fc(b[f], b[f + 1], b[f + 2])
    case 4:
      return fc(b[f], b[f + 1], b[f + 2], b[f + 3])
    case 5:
      return fc(b[f], b[f + 1], b[f + 2], b[f + 3], b[f + 4])
    case 6:
      return fc(b[f], b[f + 1], b[f + 2], b[f + 3], b[f + 4], b[f + 5])
    case 7:
      return fc(b[f], b[f + 1], b[f + 2], b[f + 3], b[f + 4], b[f + 5], b[f + 6])
    default:
      return fc(b[f], b[f + 1], b[f + 2], b[f + 3], b[f + 4], b[f + 5], b[f + 6], b[f + 7])
  }
}

/**
 * Latin-1 decoding of b[from, to), for the C-Octet strings of every PDU. Short ones in
 * pieces of 8 made by one fixed-arity `fromCharCode` each: measured 2.5× faster than adding
 * one character at a time (13 octets: 3 strings made instead of 13, ~420 → ~150 bytes).
 */
export const latin1 = (b: Uint8Array, from: number, to: number): string => {
  let n = to - from
  if (n === 0) return ""
  if (n <= 8) return upTo8(b, from, n)
  if (n > 64) return String.fromCharCode.apply(null, b.subarray(from, to) as unknown as Array<number>)
  let s = upTo8(b, from, 8)
  for (from += 8, n -= 8; n > 8; from += 8, n -= 8) s += upTo8(b, from, 8)
  return s + upTo8(b, from, n)
}
