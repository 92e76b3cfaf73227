/**
 * Copies of small byte ranges carved out of shared 64 KiB slabs, as Node's Buffer pool
 * does: allocating one typed array per field costs more than decoding the whole PDU.
 * A copy keeps its slab alive while it lives; `.buffer` of a copy is the whole slab.
 */
const SLAB_SIZE = 64 * 1024
const MAX_POOLED = 4 * 1024

let slab = new Uint8Array(SLAB_SIZE)
let offset = 0

export const copy = (source: Uint8Array, from: number, to: number): Uint8Array => {
  const n = to - from
  if (n > MAX_POOLED) return source.slice(from, to)
  if (offset + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE)
    offset = 0
  }
  const start = offset
  // Keep every copy 8-aligned so that views of it stay cheap to make.
  offset = (offset + n + 7) & ~7
  if (n <= 16) {
    for (let i = 0; i < n; i++) slab[start + i] = source[from + i]
  } else {
    slab.set(source.subarray(from, to), start)
  }
  return slab.subarray(start, start + n)
}
