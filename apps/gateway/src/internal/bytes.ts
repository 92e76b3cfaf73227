/**
 * Octets between our code and the SQL drivers.
 *
 * @internal
 */

/** Octets as a plain Uint8Array view (drivers hand out Buffers). @internal */
export const bytesOf = (value: Uint8Array): Uint8Array =>
  value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)

/** Octets as the drivers bind them (better-sqlite3 only takes Buffers); no copy. @internal */
export const bufferOf = (value: Uint8Array): Buffer =>
  Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
