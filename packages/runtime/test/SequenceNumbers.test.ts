import { describe, it, assert } from "@effect/vitest"
import * as SequenceNumbers from "../src/SequenceNumbers.js"

const none: SequenceNumbers.InFlight = { has: () => false }

describe("SequenceNumbers", () => {
  it("starts at 1 and counts up", () => {
    const seq = SequenceNumbers.make()
    assert.strictEqual(seq.last, 0)
    assert.deepStrictEqual([seq.next(none), seq.next(none), seq.next(none)], [1, 2, 3])
    assert.strictEqual(seq.last, 3)
  })

  it("wraps from 0x7FFFFFFF to 1, never giving 0 or a number above the maximum", () => {
    const seq = SequenceNumbers.make({ last: 0x7ffffffd })
    assert.deepStrictEqual(
      [seq.next(none), seq.next(none), seq.next(none), seq.next(none)],
      [0x7ffffffe, 0x7fffffff, 1, 2]
    )
  })

  it("skips numbers still in flight", () => {
    const seq = SequenceNumbers.make()
    const inFlight = new Map<number, string>()
    for (let i = 0; i < 5; i++) inFlight.set(seq.next(inFlight), "pending")
    assert.deepStrictEqual([...inFlight.keys()], [1, 2, 3, 4, 5])
    // A fresh generator (as after a restart of numbering) must step over all of them.
    const other = SequenceNumbers.make()
    assert.strictEqual(other.next(inFlight), 6)
  })

  it("skips in-flight numbers across the wrap", () => {
    const seq = SequenceNumbers.make({ last: 0x7ffffffe })
    const inFlight = new Set([0x7fffffff, 1, 2, 4])
    assert.strictEqual(seq.next(inFlight), 3)
    assert.strictEqual(seq.next(inFlight), 5)
  })

  it("gives out a number again once its response has come back", () => {
    const inFlight = new Set<number>([1])
    assert.strictEqual(SequenceNumbers.make({ last: 0x7fffffff }).next(inFlight), 2)
    inFlight.delete(1)
    assert.strictEqual(SequenceNumbers.make({ last: 0x7fffffff }).next(inFlight), 1)
  })

  it("never returns a number in flight over a long run with a full window", () => {
    const seq = SequenceNumbers.make({ last: 0x7fffffff - 500 })
    const window = new Set<number>()
    const order: Array<number> = []
    for (let i = 0; i < 5000; i++) {
      // Keep 10 in flight; answer them out of order.
      if (window.size === 10) {
        const victim = order.splice((i * 7) % order.length, 1)[0]!
        window.delete(victim)
      }
      const n = seq.next(window)
      assert.isTrue(SequenceNumbers.isValid(n))
      assert.isFalse(window.has(n))
      window.add(n)
      order.push(n)
    }
  })

  it("treats an out-of-range start as 0", () => {
    assert.strictEqual(SequenceNumbers.make({ last: -5 }).next(none), 1)
    assert.strictEqual(SequenceNumbers.make({ last: 0x80000000 }).next(none), 1)
  })

  it("isValid", () => {
    assert.isTrue(SequenceNumbers.isValid(1))
    assert.isTrue(SequenceNumbers.isValid(0x7fffffff))
    assert.isFalse(SequenceNumbers.isValid(0))
    assert.isFalse(SequenceNumbers.isValid(0x80000000))
    assert.isFalse(SequenceNumbers.isValid(1.5))
  })
})
