/**
 * Building strings from UTF-16 code units without one allocation per character.
 */

// Below V8's argument-count limits for Function.prototype.apply, with room to spare.
const CHUNK = 8192

/** The string of the first `length` code units of `codes`. */
export const fromCharCodes = (codes: Uint16Array, length: number): string => {
  if (length <= CHUNK) {
    return String.fromCharCode.apply(null, codes.subarray(0, length) as unknown as Array<number>)
  }
  let out = ""
  for (let i = 0; i < length; i += CHUNK) {
    const end = Math.min(length, i + CHUNK)
    out += String.fromCharCode.apply(null, codes.subarray(i, end) as unknown as Array<number>)
  }
  return out
}

/** The whole character (a surrogate pair counts as one) that starts at `index`. */
export const characterAt = (text: string, index: number): string => {
  const code = text.charCodeAt(index)
  if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
    const next = text.charCodeAt(index + 1)
    if (next >= 0xdc00 && next <= 0xdfff) return text.slice(index, index + 2)
  }
  return text.charAt(index)
}
