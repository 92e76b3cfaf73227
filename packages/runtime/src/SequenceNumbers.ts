/**
 * The sequence_number of outgoing requests: 1 … 0x7FFFFFFF, wrapping to 1, never one whose
 * request is still waiting for its response.
 *
 * @since 0.1.0
 */

/**
 * The smallest sequence_number.
 *
 * @since 0.1.0
 * @category constants
 */
export const MIN = 1

/**
 * The largest sequence_number (SMPP 3.4 §5.1.4); after it, numbering starts again at 1.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX = 0x7fffffff

/**
 * The numbers in use: typically the window's `Map<number, Pending>` itself.
 *
 * @since 0.1.0
 * @category models
 */
export interface InFlight {
  readonly has: (sequenceNumber: number) => boolean
}

/**
 * A generator owned by one session (one fiber); not shared.
 *
 * @since 0.1.0
 * @category models
 */
export interface SequenceNumbers {
  /**
   * The next number after the last one given out that is not in `inFlight`. Terminates as
   * long as fewer than 0x7FFFFFFF numbers are in flight (a window is far smaller).
   */
  readonly next: (inFlight: InFlight) => number
  /** The last number given out (0 before the first). */
  readonly last: number
}

/**
 * Whether `n` is a valid sequence_number for a request.
 *
 * @since 0.1.0
 * @category utils
 */
export const isValid = (n: number): boolean => Number.isInteger(n) && n >= MIN && n <= MAX

class SequenceNumbersImpl implements SequenceNumbers {
  last: number

  constructor(last: number) {
    this.last = last
  }

  next(inFlight: InFlight): number {
    let n = this.last
    // Bounded so that a broken `has` cannot spin forever; unreachable with a real window.
    for (let tries = 0; tries < MAX; tries++) {
      n = n >= MAX ? MIN : n + 1
      if (!inFlight.has(n)) break
    }
    this.last = n
    return n
  }
}

/**
 * A new generator; the first number is `last + 1` (default 1). `last` is for tests and for
 * resuming a numbering; values outside 0…0x7FFFFFFF are treated as 0.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: { readonly last?: number | undefined }): SequenceNumbers => {
  const last = options?.last ?? 0
  return new SequenceNumbersImpl(Number.isInteger(last) && last >= 0 && last <= MAX ? last : 0)
}
