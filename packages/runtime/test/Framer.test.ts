import { describe, it, assert, expect } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Framer from "../src/Framer.js"

/** A PDU-shaped frame: header with the given command_length, then `bodyLength` patterned octets. */
const pdu = (sequence: number, bodyLength: number, commandId = 0x00000004): Uint8Array => {
  const bytes = new Uint8Array(16 + bodyLength)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, bytes.length)
  view.setUint32(4, commandId)
  view.setUint32(8, 0)
  view.setUint32(12, sequence)
  for (let i = 16; i < bytes.length; i++) bytes[i] = (sequence * 31 + i) & 0xff
  return bytes
}

/** A header claiming `commandLength`, followed by `extra` more octets. */
const badHeader = (commandLength: number, sequence: number, extra = 0): Uint8Array => {
  const bytes = new Uint8Array(16 + extra)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, commandLength)
  view.setUint32(4, 0x00000015)
  view.setUint32(12, sequence)
  return bytes
}

const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Feeds the chunks in order; collects every frame (copied, so later pushes cannot alter them) and the first error. */
const feed = (framer: Framer.Framer, chunks: ReadonlyArray<Uint8Array>) => {
  const frames: Array<Uint8Array> = []
  let error: Framer.FramingError | undefined
  for (const chunk of chunks) {
    const result = framer.push(chunk)
    for (const f of result.frames) frames.push(Uint8Array.from(f))
    if (result.error !== undefined && error === undefined) error = result.error
  }
  return { frames, error }
}

const splitAt = (bytes: Uint8Array, offsets: ReadonlyArray<number>): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  let from = 0
  for (const o of offsets) {
    chunks.push(bytes.subarray(from, o))
    from = o
  }
  chunks.push(bytes.subarray(from))
  return chunks
}

describe("Framer", () => {
  const messages = [pdu(1, 0), pdu(2, 1), pdu(3, 45), pdu(0x7fffffff, 200)]

  it("frames one message split at every byte offset", () => {
    for (const message of messages) {
      for (let i = 0; i <= message.length; i++) {
        const framer = Framer.make()
        const { error, frames } = feed(framer, splitAt(message, [i]))
        assert.isUndefined(error)
        assert.strictEqual(frames.length, 1, `split at ${i}`)
        assert.deepStrictEqual(frames[0], message)
        assert.strictEqual(framer.buffered, 0)
      }
    }
  })

  it("frames a stream of messages split at every pair of offsets", () => {
    const stream = concat(pdu(10, 3), pdu(11, 0), pdu(12, 20))
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const framer = Framer.make()
        const { error, frames } = feed(framer, splitAt(stream, [i, j]))
        assert.isUndefined(error)
        assert.deepStrictEqual(frames, [pdu(10, 3), pdu(11, 0), pdu(12, 20)], `split at ${i}, ${j}`)
        assert.isAtMost(framer.bytesCopied, stream.length)
      }
    }
  })

  it("hands out views of the chunk, without copying, for messages back to back in one chunk", () => {
    const chunk = concat(...messages)
    const framer = Framer.make()
    const result = framer.push(chunk)
    assert.isUndefined(result.error)
    assert.strictEqual(result.frames.length, messages.length)
    result.frames.forEach((frame, i) => {
      assert.strictEqual(frame.buffer, chunk.buffer)
      assert.deepStrictEqual(Uint8Array.from(frame), messages[i])
    })
    assert.strictEqual(framer.bytesCopied, 0)
    assert.strictEqual(framer.buffered, 0)
  })

  it("keeps a partial message and completes it from the next chunk", () => {
    const framer = Framer.make()
    const a = pdu(1, 4)
    const b = pdu(2, 30)
    const first = framer.push(concat(a, b.subarray(0, 10)))
    assert.strictEqual(first.frames.length, 1)
    assert.deepStrictEqual(Uint8Array.from(first.frames[0]!), a)
    assert.strictEqual(framer.buffered, 10)
    const second = framer.push(b.subarray(10))
    assert.deepStrictEqual(second.frames, [b])
    assert.strictEqual(framer.buffered, 0)
    // Only the straddling message was copied.
    assert.strictEqual(framer.bytesCopied, b.length)
  })

  it("frames a stream fed one byte at a time", () => {
    const stream = concat(...messages, ...messages)
    const framer = Framer.make()
    const chunks = Array.from(stream, (_, i) => stream.subarray(i, i + 1))
    const { error, frames } = feed(framer, chunks)
    assert.isUndefined(error)
    assert.deepStrictEqual(frames, [...messages, ...messages])
    // Every octet is copied exactly once, never more.
    assert.strictEqual(framer.bytesCopied, stream.length)
  })

  it("ignores empty chunks", () => {
    const framer = Framer.make()
    const message = pdu(5, 2)
    const { frames } = feed(framer, [new Uint8Array(0), message.subarray(0, 2), new Uint8Array(0), message.subarray(2)])
    assert.deepStrictEqual(frames, [message])
  })

  it("accepts command_length equal to maxLength and rejects one more", () => {
    const framer = Framer.make({ maxLength: 64 })
    const ok = framer.push(pdu(1, 48))
    assert.strictEqual(ok.frames.length, 1)
    assert.isUndefined(ok.error)
    const bad = framer.push(pdu(2, 49))
    assert.strictEqual(bad.frames.length, 0)
    assert.strictEqual(bad.error?.reason, "CommandLengthTooLong")
    assert.strictEqual(bad.error?.commandLength, 65)
  })

  describe("bad command_length", () => {
    const max = Framer.DEFAULT_MAX_LENGTH
    const cases: ReadonlyArray<readonly [number, Framer.FramingErrorReason]> = [
      [0, "CommandLengthTooShort"],
      [15, "CommandLengthTooShort"],
      [max + 1, "CommandLengthTooLong"],
      [0xffffffff, "CommandLengthTooLong"]
    ]

    it.each(cases)("rejects %d with its sequence number", (length, reason) => {
      const framer = Framer.make()
      const result = framer.push(badHeader(length, 77, 8))
      assert.strictEqual(result.frames.length, 0)
      const error = result.error!
      assert.strictEqual(error._tag, "FramingError")
      assert.strictEqual(error.reason, reason)
      assert.strictEqual(error.commandLength, length)
      assert.strictEqual(error.sequenceNumber, 77)
      assert.strictEqual(error.status, CommandStatus.ESME_RINVCMDLEN)
      assert.strictEqual(error.maxLength, max)
      expect(error.message).toContain(String(length))
      assert.strictEqual(framer.error, error)
    })

    it.each(cases)("reports %d after the good frames of the same chunk", (length, reason) => {
      const framer = Framer.make()
      const good = [pdu(1, 0), pdu(2, 10)]
      const result = framer.push(concat(...good, badHeader(length, 3), pdu(4, 0)))
      assert.deepStrictEqual(result.frames.map((f) => Uint8Array.from(f)), good)
      assert.strictEqual(result.error?.reason, reason)
      assert.strictEqual(result.error?.commandLength, length)
      assert.strictEqual(result.error?.sequenceNumber, 3)
    })

    it.each(cases)("rejects %d arriving at every split offset after a good frame", (length, reason) => {
      const good = pdu(1, 5)
      const stream = concat(good, badHeader(length, 9))
      for (let i = 0; i <= stream.length; i++) {
        const framer = Framer.make()
        const { error, frames } = feed(framer, splitAt(stream, [i]))
        assert.deepStrictEqual(frames, [good], `split at ${i}`)
        assert.strictEqual(error?.reason, reason)
        assert.strictEqual(error?.commandLength, length)
        // The length is read as soon as its 4 octets are in; the sequence number comes with it
        // when the first chunk holding those 4 octets also holds the rest of the header.
        const headerStart = good.length
        const expected = i >= headerStart + 4 && i < headerStart + 16 ? undefined : 9
        assert.strictEqual(error?.sequenceNumber, expected, `split at ${i}`)
      }
    })

    it("rejects a bad length with only its first 4 octets known, without a sequence number", () => {
      const framer = Framer.make()
      const result = framer.push(badHeader(15, 1).subarray(0, 6))
      assert.strictEqual(result.error?.commandLength, 15)
      assert.isUndefined(result.error?.sequenceNumber)
    })

    it("stays failed: later chunks yield no frames and the same error", () => {
      const framer = Framer.make()
      const first = framer.push(badHeader(0, 1))
      const again = framer.push(pdu(2, 0))
      assert.strictEqual(again.frames.length, 0)
      assert.strictEqual(again.error, first.error)
      assert.strictEqual(framer.buffered, 0)
    })
  })

  it("frames 10k messages under random chunking, copying each octet at most once", () => {
    const count = 10_000
    const list = Array.from({ length: count }, (_, i) => pdu(i + 1, (i * 7919) % 300))
    const stream = concat(...list)
    // Deterministic chunk sizes from 1 octet to several PDUs.
    let seed = 12345
    const offsets: Array<number> = []
    for (let at = 0; ;) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      at += 1 + (seed % 1500)
      if (at >= stream.length) break
      offsets.push(at)
    }
    const framer = Framer.make()
    const { error, frames } = feed(framer, splitAt(stream, offsets))
    assert.isUndefined(error)
    assert.strictEqual(frames.length, count)
    for (let i = 0; i < count; i++) {
      if (frames[i]!.length !== list[i]!.length || frames[i]!.some((b, j) => b !== list[i]![j])) {
        assert.fail(`frame ${i} differs`)
      }
    }
    assert.isAtMost(framer.bytesCopied, stream.length)
    assert.strictEqual(framer.buffered, 0)
  })

  it("frames 10k messages in one chunk as views, with no copy", () => {
    const list = Array.from({ length: 10_000 }, (_, i) => pdu(i + 1, i % 50))
    const stream = concat(...list)
    const framer = Framer.make()
    const result = framer.push(stream)
    assert.strictEqual(result.frames.length, list.length)
    assert.strictEqual(framer.bytesCopied, 0)
    assert.deepStrictEqual(Uint8Array.from(result.frames[9_999]!), list[9_999])
  })

  it("yields the same frames however the stream is chunked (property)", () => {
    const arbPdus = FastCheck.array(
      FastCheck.tuple(FastCheck.integer({ min: 1, max: 0x7fffffff }), FastCheck.integer({ min: 0, max: 120 })),
      { minLength: 1, maxLength: 12 }
    )
    FastCheck.assert(
      FastCheck.property(arbPdus, FastCheck.array(FastCheck.nat(), { maxLength: 20 }), (specs, cuts) => {
        const list = specs.map(([seq, body]) => pdu(seq, body))
        const stream = concat(...list)
        const offsets = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b)
        const framer = Framer.make()
        const { error, frames } = feed(framer, splitAt(stream, offsets))
        return error === undefined && frames.length === list.length &&
          frames.every((f, i) => f.length === list[i]!.length && f.every((b, j) => b === list[i]![j])) &&
          framer.bytesCopied <= stream.length
      })
    )
  })
})
