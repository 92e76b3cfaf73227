/**
 * Account passwords as scrypt hashes: `scrypt$N$r$p$salt$hash` (salt and hash in
 * base64), made with `hash` and checked with `verify` in constant time. SMPP passwords
 * are at most 8 characters (a 9-octet C-Octet String), which is why the cost is kept high.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto"

/**
 * The parts of a stored hash.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScryptHash {
  readonly N: number
  readonly r: number
  readonly p: number
  readonly salt: Uint8Array
  readonly hash: Uint8Array
}

/**
 * @since 0.1.0
 * @category models
 */
export interface HashOptions {
  /** CPU/memory cost, a power of two. Default 16384. */
  readonly N?: number
  /** Block size. Default 8. */
  readonly r?: number
  /** Parallelism. Default 1. */
  readonly p?: number
}

/**
 * @since 0.1.0
 * @category errors
 */
export class PasswordHashError extends Data.TaggedError("PasswordHashError")<{
  readonly reason: "Malformed" | "HashFailed"
  readonly cause?: unknown
  readonly message: string
}> {}

/**
 * The prefix that marks a stored scrypt hash.
 *
 * @since 0.1.0
 * @category constants
 */
export const PREFIX = "scrypt$"

const KEY_LENGTH = 32
const SALT_LENGTH = 16

/**
 * Whether a configured password is a scrypt hash (else it is plain text).
 *
 * @since 0.1.0
 * @category guards
 */
export const isHash = (value: string): boolean => value.startsWith(PREFIX)

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0

/**
 * Reads `scrypt$N$r$p$salt$hash`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (value: string): Either.Either<ScryptHash, PasswordHashError> => {
  const parts = value.split("$")
  const malformed = (detail: string) =>
    Either.left(new PasswordHashError({ reason: "Malformed", message: `not a scrypt hash: ${detail}` }))
  if (parts.length !== 6 || parts[0] !== "scrypt") return malformed("expected scrypt$N$r$p$salt$hash")
  const N = Number(parts[1])
  const r = Number(parts[2])
  const p = Number(parts[3])
  if (!isPowerOfTwo(N) || N > 1 << 20) return malformed("N must be a power of two, at most 2^20")
  if (!Number.isInteger(r) || r < 1 || r > 64) return malformed("r must be an integer 1–64")
  if (!Number.isInteger(p) || p < 1 || p > 16) return malformed("p must be an integer 1–16")
  const b64 = /^[A-Za-z0-9+/]+={0,2}$/
  if (!b64.test(parts[4]) || !b64.test(parts[5])) return malformed("salt and hash must be base64")
  const salt = Buffer.from(parts[4], "base64")
  const hash = Buffer.from(parts[5], "base64")
  if (salt.length < 8) return malformed("salt shorter than 8 octets")
  if (hash.length < 16) return malformed("hash shorter than 16 octets")
  return Either.right({ N, r, p, salt, hash })
}

const derive = (password: string, salt: Uint8Array, N: number, r: number, p: number, length: number) =>
  Effect.async<Buffer, PasswordHashError>((resume) => {
    // maxmem: scrypt needs 128·N·r octets; node's default 32 MiB is too small above N=2^15.
    scrypt(password, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) => {
      resume(
        error === null
          ? Effect.succeed(key)
          : Effect.fail(new PasswordHashError({ reason: "HashFailed", cause: error, message: error.message }))
      )
    })
  })

/**
 * A new hash of a password, with a random 16-octet salt.
 *
 * @since 0.1.0
 * @category constructors
 */
export const hash = (password: string, options?: HashOptions): Effect.Effect<string, PasswordHashError> => {
  const N = options?.N ?? 16384
  const r = options?.r ?? 8
  const p = options?.p ?? 1
  return Effect.flatMap(Effect.sync(() => randomBytes(SALT_LENGTH)), (salt) =>
    Effect.map(
      derive(password, salt, N, r, p, KEY_LENGTH),
      (key) => `${PREFIX}${N}$${r}$${p}$${salt.toString("base64")}$${key.toString("base64")}`
    ))
}

/**
 * Whether a password matches a parsed hash; the comparison takes the same time wherever
 * the first difference is.
 *
 * @since 0.1.0
 * @category verification
 */
export const verify = (password: string, stored: ScryptHash): Effect.Effect<boolean, PasswordHashError> =>
  Effect.map(
    derive(password, stored.salt, stored.N, stored.r, stored.p, stored.hash.length),
    (key) => timingSafeEqual(key, stored.hash)
  )

/**
 * Constant-time equality of two plain-text passwords (for the documented demo account
 * only): both sides are digested first, so neither the length nor the first differing
 * character shows in the timing.
 *
 * @since 0.1.0
 * @category verification
 */
export const equalsPlain = (given: string, expected: string): boolean =>
  timingSafeEqual(
    createHash("sha256").update(given, "utf8").digest(),
    createHash("sha256").update(expected, "utf8").digest()
  )
