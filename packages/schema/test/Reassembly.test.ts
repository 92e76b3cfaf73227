import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Gsm7 from "../src/Gsm7.js"
import * as Reassembly from "../src/Reassembly.js"
import * as Segmentation from "../src/Segmentation.js"
import * as Text from "../src/Text.js"

// Deterministic pseudo-random numbers (mulberry32), so failures reproduce.
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const shuffle = <A>(items: ReadonlyArray<A>, seed: number): Array<A> => {
  const random = prng(seed)
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = out[i]
    out[i] = out[j]
    out[j] = tmp
  }
  return out
}

const textFrom = (alphabet: ReadonlyArray<string>, length: number, seed: number): string => {
  const random = prng(seed)
  let out = ""
  while (out.length < length) out += alphabet[Math.floor(random() * alphabet.length)]
  return out
}

const gsmAlphabet = [
  ...Array.from(Gsm7.BASIC_TABLE).filter((_, septet) => septet !== Gsm7.ESCAPE),
  ...Gsm7.EXTENSION_TABLE.values()
]
const latinAlphabet = Array.from("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,;:!?éèêëçàâîïôûùüÿñßøæåÄÖÜ«»¿¡°§")
const mixedAlphabet = [...gsmAlphabet, "中", "文", "ж", "ش", "😀", "🎉", "👍🏽", "é", "ç", "\u00a0"]

interface Outcome {
  readonly texts: ReadonlyArray<string>
  readonly duplicates: number
  readonly state: Reassembly.State
}

// Feeds `parts` (as a receiver sees them) through extract + add.
const receive = (parts: ReadonlyArray<Segmentation.Part>, source = "4915550001", dest = "12345"): Outcome => {
  let state = Reassembly.empty
  const texts: Array<string> = []
  let duplicates = 0
  for (const part of parts) {
    const extracted = Either.getOrThrow(
      Reassembly.extract({ shortMessage: part.shortMessage, udhi: part.esmClassUdhi, sar: part.sar })
    )
    if (extracted.concat === undefined) {
      texts.push(Text.decode(extracted.payload, part.dataCoding))
      continue
    }
    const result = Reassembly.add(state, {
      key: Reassembly.key(source, dest, extracted.concat.reference),
      total: extracted.concat.total,
      seqNum: extracted.concat.seqNum,
      payload: extracted.payload,
      dataCoding: part.dataCoding
    })
    state = result.state
    if (result.status === "Duplicate") duplicates++
    if (result.completed !== undefined) {
      assert.strictEqual(result.status, "Completed")
      texts.push(result.completed.text)
    }
  }
  return { texts, duplicates, state }
}

const methods = ["udh8", "udh16", "sar", "payload"] as const

const carriers = (text: string): Array<number> => [0, 1, 3, 8].filter((dc) => Either.isRight(Text.encode(text, dc)))

describe("Reassembly", () => {
  const cases = [
    { name: "GSM-only text", text: textFrom(gsmAlphabet, 1000, 1), carriedBy: [0, 8] },
    { name: "Latin text", text: textFrom(latinAlphabet, 1000, 2), carriedBy: [3, 8] },
    { name: "mixed text with emoji", text: textFrom(mixedAlphabet, 1000, 3), carriedBy: [8] }
  ]
  for (const { carriedBy, name, text } of cases) {
    it(`reassembles a 1,000-character ${name} in every coding and method, shuffled, with a duplicate`, () => {
      assert.isAtLeast(text.length, 1000)
      // GSM text holds Greek capitals and €, which Latin-1 lacks; Latin text holds ê, ç…, which GSM lacks
      const codings = carriers(text)
      assert.deepStrictEqual(codings, carriedBy)
      for (const dataCoding of codings) {
        for (const method of methods) {
          const parts = Either.getOrThrow(Segmentation.split(text, { dataCoding, method, reference: 0xbeef }))
          if (method === "payload") {
            assert.strictEqual(parts.length, 1)
          } else {
            assert.isAbove(parts.length, 5, `${method}/${dataCoding}`)
          }
          const seed = dataCoding * 31 + methods.indexOf(method)
          const shuffled = shuffle(parts, seed)
          // a duplicate of some part, received after the original
          const withDuplicate = parts.length > 1
            ? [...shuffled.slice(0, 2), shuffled[0], ...shuffled.slice(2)]
            : shuffled
          const outcome = receive(withDuplicate)
          assert.deepStrictEqual(outcome.texts, [text], `${method}/${dataCoding}`)
          assert.strictEqual(outcome.duplicates, parts.length > 1 ? 1 : 0)
          assert.strictEqual(Reassembly.size(outcome.state), 0)
        }
      }
    })
  }

  it("splits emoji in UCS-2 without cutting pairs and reassembles them", () => {
    const text = "😀🎉👍🏽🇩🇪".repeat(30)
    const parts = Either.getOrThrow(Segmentation.split(text))
    assert.isAbove(parts.length, 3)
    for (const part of parts) {
      assert.strictEqual(part.dataCoding, 8)
      const extracted = Either.getOrThrow(Reassembly.extract({ shortMessage: part.shortMessage, udhi: true }))
      const piece = Text.decode(extracted.payload, 8)
      assert.isFalse(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(piece), "lone surrogate")
    }
    assert.deepStrictEqual(receive(shuffle(parts, 7)).texts, [text])
  })

  it("reports the missing parts of an incomplete message", () => {
    const parts = Either.getOrThrow(Segmentation.split("a".repeat(600), { reference: 9 }))
    assert.strictEqual(parts.length, 4)
    const outcome = receive([parts[3], parts[0], parts[2]])
    const key = Reassembly.key("4915550001", "12345", 9)
    assert.deepStrictEqual(outcome.texts, [])
    assert.isTrue(Reassembly.has(outcome.state, key))
    assert.deepStrictEqual(Reassembly.missing(outcome.state, key), [2])
    assert.deepStrictEqual(Reassembly.keys(outcome.state), [key])
    assert.deepStrictEqual(Reassembly.missing(outcome.state, "nope"), [])
    const dropped = Reassembly.drop(outcome.state, key)
    assert.strictEqual(Reassembly.size(dropped), 0)
    assert.isFalse(Reassembly.has(dropped, key))
    assert.strictEqual(Reassembly.drop(dropped, key), dropped)
  })

  it("keeps states immutable, reports each status", () => {
    const payload = Uint8Array.of(0x61)
    const base = { key: "k", payload, dataCoding: 0 }
    const r1 = Reassembly.add(Reassembly.empty, { ...base, total: 3, seqNum: 2 })
    assert.strictEqual(r1.status, "Pending")
    assert.strictEqual(Reassembly.size(Reassembly.empty), 0)
    const r2 = Reassembly.add(r1.state, { ...base, total: 3, seqNum: 2, payload: Uint8Array.of(0x62) })
    assert.strictEqual(r2.status, "Duplicate")
    assert.strictEqual(r2.state, r1.state)
    assert.deepStrictEqual(Reassembly.missing(r1.state, "k"), [1, 3])
    const r3 = Reassembly.add(r1.state, { ...base, total: 3, seqNum: 4 })
    assert.strictEqual(r3.status, "Invalid")
    assert.strictEqual(Reassembly.add(r1.state, { ...base, total: 0, seqNum: 0 }).status, "Invalid")
    assert.strictEqual(Reassembly.add(r1.state, { ...base, total: 256, seqNum: 1 }).status, "Invalid")
    // same key, another total: a reused reference; the old partial is replaced
    const r4 = Reassembly.add(r1.state, { ...base, total: 2, seqNum: 1 })
    assert.strictEqual(r4.status, "Restarted")
    assert.deepStrictEqual(Reassembly.missing(r4.state, "k"), [2])
    assert.deepStrictEqual(Reassembly.missing(r1.state, "k"), [1, 3])
    // a one-part message completes at once and leaves partial state alone
    const r5 = Reassembly.add(r1.state, { ...base, total: 1, seqNum: 1 })
    assert.strictEqual(r5.status, "Completed")
    assert.strictEqual(r5.completed?.text, "a")
    assert.strictEqual(r5.state, r1.state)
    // the first duplicate's payload was ignored: the first copy is kept
    const r6 = Reassembly.add(r2.state, { ...base, total: 3, seqNum: 1, payload: Uint8Array.of(0x78) })
    const r7 = Reassembly.add(r6.state, { ...base, total: 3, seqNum: 3, payload: Uint8Array.of(0x79) })
    assert.strictEqual(r7.status, "Completed")
    assert.deepStrictEqual(r7.completed, {
      key: "k",
      total: 3,
      dataCoding: 0,
      payload: Uint8Array.of(0x78, 0x61, 0x79),
      text: "xay"
    })
  })

  it("lists partial messages older than a time for the caller to drop", () => {
    const base = { payload: Uint8Array.of(1), dataCoding: 4, total: 2, seqNum: 1 }
    let state = Reassembly.empty
    state = Reassembly.add(state, { ...base, key: "old", receivedAt: 1_000 }).state
    state = Reassembly.add(state, { ...base, key: "new", receivedAt: 5_000 }).state
    state = Reassembly.add(state, { ...base, key: "untimed" }).state
    // a later part does not refresh the first part's time
    state = Reassembly.add(state, { ...base, key: "old", seqNum: 1, receivedAt: 9_000 }).state
    assert.deepStrictEqual(Reassembly.olderThan(state, 4_000), ["old"])
    assert.deepStrictEqual([...Reassembly.olderThan(state, 6_000)].sort(), ["new", "old"])
  })

  it("extracts concatenation info from a UDH, from SAR values, or none", () => {
    const udh = Either.getOrThrow(
      Reassembly.extract({ shortMessage: Uint8Array.of(5, 0, 3, 7, 2, 1, 0x41), udhi: true })
    )
    assert.deepStrictEqual(udh.concat, { reference: 7, total: 2, seqNum: 1, referenceBits: 8 })
    assert.deepStrictEqual(Array.from(udh.payload), [0x41])
    // ports only: the header is stripped, no concatenation
    const ports = Either.getOrThrow(
      Reassembly.extract({ shortMessage: Uint8Array.of(6, 5, 4, 0x0b, 0x84, 0x23, 0xf0, 0x42), udhi: true })
    )
    assert.isUndefined(ports.concat)
    assert.deepStrictEqual(Array.from(ports.payload), [0x42])
    assert.strictEqual(ports.elements[0].iei, 5)
    const sar = Either.getOrThrow(
      Reassembly.extract({ shortMessage: Uint8Array.of(0x43), udhi: false, sar: { refNum: 300, total: 3, seqNum: 3 } })
    )
    assert.deepStrictEqual(sar.concat, { reference: 300, total: 3, seqNum: 3, referenceBits: 16 })
    const plain = Either.getOrThrow(Reassembly.extract({ shortMessage: Uint8Array.of(0x44), udhi: false }))
    assert.isUndefined(plain.concat)
    const badSar = Either.getOrThrow(
      Reassembly.extract({ shortMessage: Uint8Array.of(0x44), udhi: false, sar: { refNum: 1, total: 2, seqNum: 3 } })
    )
    assert.isUndefined(badSar.concat)
    const broken = Reassembly.extract({ shortMessage: Uint8Array.of(9, 0, 3), udhi: true })
    assert.isTrue(Either.isLeft(broken) && broken.left._tag === "UdhError")
  })

  it("split then reassemble is the identity on random strings (property)", () => {
    const gsmString = FastCheck.array(FastCheck.constantFrom(...gsmAlphabet), { maxLength: 700 }).map((a) => a.join(""))
    FastCheck.assert(
      FastCheck.property(
        FastCheck.oneof(gsmString, FastCheck.fullUnicodeString({ maxLength: 400 }), FastCheck.string({ maxLength: 500 })),
        FastCheck.constantFrom(...methods),
        FastCheck.integer({ min: 0, max: 0xffff }),
        FastCheck.integer(),
        (text, method, reference, seed) => {
          const parts = Either.getOrThrow(Segmentation.split(text, { method, reference }))
          const { duplicates, state, texts } = receive(shuffle(parts, seed))
          assert.deepStrictEqual(texts, [text])
          assert.strictEqual(duplicates, 0)
          assert.strictEqual(Reassembly.size(state), 0)
        }
      ),
      { numRuns: 300 }
    )
  })
})
