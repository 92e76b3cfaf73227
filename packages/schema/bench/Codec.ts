/**
 * Codec throughput: our compiled codec against node-smpp, in the same process.
 *
 * Run with `npm run bench` (root or packages/schema). Not a test: it prints a table and
 * asserts nothing about speed; it does fail when the two libraries would not be compared
 * like with like (different bytes or different decoded fields).
 *
 * Settings through the environment: BENCH_ROUNDS (5), BENCH_ROUND_MS (500),
 * BENCH_WARMUP_OPS (200000), BENCH_WARMUP_MAX_MS (400).
 */
import { deepStrictEqual } from "node:assert/strict"
import * as os from "node:os"
import { performance } from "node:perf_hooks"
import * as Either from "effect/Either"
import * as Codec from "../src/Codec.js"
import * as Pdu from "../src/Pdu.js"
import * as Text from "../src/Text.js"
import { type Loop, measure, type Result, settingsFromEnv, sinkValue } from "./harness.js"
import { smpp, type SmppPdu, version as smppVersion } from "./smpp.js"

const GSM_DEFAULT = 0

// ---------------------------------------------------------------------------
// Fixtures: one set of values, given to both libraries
// ---------------------------------------------------------------------------

const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
/** 160 GSM characters (plain ASCII letters: one septet each, same code as ASCII). */
const submitText = Array.from({ length: 160 }, (_, i) => letters[i % letters.length]).join("")
const submitOctets = Either.getOrThrow(Text.encode(submitText, GSM_DEFAULT))

const receiptId = "0A1B2C3D4E"
const receiptText = `id:${receiptId} sub:001 dlvrd:001 submit date:2501151230 done date:2501151231 ` +
  "stat:DELIVRD err:000 text:Hello from effect-s"
const receiptOctets = Either.getOrThrow(Text.encode(receiptText, GSM_DEFAULT))

/** node-smpp takes Buffers; these share memory with the octets above, so both encode the same bytes. */
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

const submitOurs = {
  sequenceNumber: 1,
  sourceAddrTon: 5,
  sourceAddrNpi: 0,
  sourceAddr: "EffectSMPP",
  destAddrTon: 1,
  destAddrNpi: 1,
  destinationAddr: "4915112345678",
  registeredDelivery: 1,
  dataCoding: GSM_DEFAULT,
  shortMessage: submitOctets,
  tlvs: { userMessageReference: 42, sourcePort: 1234 }
}
const submitSmppFields = (shortMessage: Buffer | string) => ({
  sequence_number: 1,
  source_addr_ton: 5,
  source_addr_npi: 0,
  source_addr: "EffectSMPP",
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: "4915112345678",
  registered_delivery: 1,
  data_coding: GSM_DEFAULT,
  short_message: shortMessage,
  user_message_reference: 42,
  source_port: 1234
})
const submitSmppBuffer = submitSmppFields(asBuffer(submitOctets))
const submitSmppString = submitSmppFields(submitText)

const deliverOurs = {
  sequenceNumber: 2,
  sourceAddrTon: 1,
  sourceAddrNpi: 1,
  sourceAddr: "4915112345678",
  destAddrTon: 5,
  destAddrNpi: 0,
  destinationAddr: "EffectSMPP",
  esmClass: 0x04,
  dataCoding: GSM_DEFAULT,
  shortMessage: receiptOctets,
  tlvs: { receiptedMessageId: receiptId, messageState: 2 }
}
const deliverSmppFields = {
  sequence_number: 2,
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: "4915112345678",
  dest_addr_ton: 5,
  dest_addr_npi: 0,
  destination_addr: "EffectSMPP",
  esm_class: 0x04,
  data_coding: GSM_DEFAULT,
  short_message: asBuffer(receiptOctets),
  receipted_message_id: receiptId,
  message_state: 2
}

// Built once; the plain encode/decode rows reuse these objects and bytes.
const submitPdu = Pdu.SubmitSm.make(submitOurs)
const deliverPdu = Pdu.DeliverSm.make(deliverOurs)
const enquirePdu = Pdu.EnquireLink.make({ sequenceNumber: 3 })
const submitSmpp = new smpp.PDU("submit_sm", submitSmppBuffer)
const deliverSmpp = new smpp.PDU("deliver_sm", deliverSmppFields)
const enquireSmpp = new smpp.PDU("enquire_link", { sequence_number: 3 })

// Each library decodes the bytes its own encoder wrote (standalone copies, not pool views).
const submitBytes = Codec.encode(submitPdu).slice()
const deliverBytes = Codec.encode(deliverPdu).slice()
const enquireBytes = Codec.encode(enquirePdu).slice()
const submitSmppBytes = submitSmpp.toBuffer()
const deliverSmppBytes = deliverSmpp.toBuffer()
const enquireSmppBytes = enquireSmpp.toBuffer()

// ---------------------------------------------------------------------------
// Like with like: same bytes on the wire, same fields after decoding
// ---------------------------------------------------------------------------

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())

/** Our PDU as node-smpp shows it: snake_case, TLVs beside the fields, short_message as text. */
const oursAsRecord = (pdu: Pdu.Pdu): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(pdu)) {
    if (key === "_tag") out.command = value
    else if (key === "tlvs") for (const [tlv, v] of Object.entries(value as object)) out[snake(tlv)] = v
    else if (key === "shortMessage") out.short_message = Text.decode(value as Uint8Array, (pdu as Pdu.SubmitSm).dataCoding)
    else out[snake(key)] = value
  }
  return out
}

const smppAsRecord = (pdu: SmppPdu): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(pdu)) {
    if (key === "command_length" || key === "command_id") continue
    out[key] = key === "short_message" ? (value as { readonly message: string }).message : value
  }
  return out
}

const decodeOurs = (bytes: Uint8Array): Pdu.Pdu => {
  const result = Codec.decode(bytes)
  if (Either.isLeft(result)) throw new Error(`our codec refused its own bytes: ${result.left.message}`)
  return result.right
}

const decodeSmpp = (bytes: Buffer): SmppPdu => {
  const pdu = smpp.PDU.fromBuffer(bytes)
  if (pdu === false) throw new Error("node-smpp refused its own bytes")
  return pdu
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

const checks: Array<[string, boolean]> = [
  ["submit_sm", sameBytes(submitBytes, submitSmppBytes)],
  ["submit_sm (node-smpp, string message)", sameBytes(submitBytes, new smpp.PDU("submit_sm", submitSmppString).toBuffer())],
  ["deliver_sm", sameBytes(deliverBytes, deliverSmppBytes)],
  ["enquire_link", sameBytes(enquireBytes, enquireSmppBytes)]
]
for (const [name, ours, theirs] of [
  ["submit_sm", submitBytes, submitSmppBytes],
  ["deliver_sm", deliverBytes, deliverSmppBytes],
  ["enquire_link", enquireBytes, enquireSmppBytes]
] as const) {
  // Throws, and so stops the benchmark, when the two would not measure the same work.
  deepStrictEqual(oursAsRecord(decodeOurs(ours)), smppAsRecord(decodeSmpp(theirs)), `${name}: decoded fields differ`)
}

// ---------------------------------------------------------------------------
// The loops: one per row and library, each with its own call sites
// ---------------------------------------------------------------------------

const ours = {
  encodeSubmit: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += Codec.encode(submitPdu).length
    return s
  },
  decodeSubmit: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const r = Codec.decode(submitBytes)
      if (Either.isRight(r)) s += r.right.sequenceNumber
    }
    return s
  },
  encodeDeliver: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += Codec.encode(deliverPdu).length
    return s
  },
  decodeDeliver: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const r = Codec.decode(deliverBytes)
      if (Either.isRight(r)) s += r.right.sequenceNumber
    }
    return s
  },
  encodeEnquire: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += Codec.encode(enquirePdu).length
    return s
  },
  decodeEnquire: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const r = Codec.decode(enquireBytes)
      if (Either.isRight(r)) s += r.right.sequenceNumber
    }
    return s
  },
  /** as the runtime builds and sends: `Pdu.make` (defaults, no validation), then encode (which checks) */
  fastMakeEncodeSubmit: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += Codec.encode(Pdu.make("submit_sm", submitOurs)).length
    return s
  },
  /** the Schema constructor (which validates every field), then encode */
  makeEncodeSubmit: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += Codec.encode(Pdu.SubmitSm.make(submitOurs)).length
    return s
  },
  /** the same, built as a plain object literal of the PDU's full shape instead of `make` */
  literalEncodeSubmitText: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const pdu: Pdu.SubmitSm = {
        _tag: "submit_sm",
        commandStatus: 0,
        sequenceNumber: 1,
        serviceType: "",
        sourceAddrTon: 5,
        sourceAddrNpi: 0,
        sourceAddr: "EffectSMPP",
        destAddrTon: 1,
        destAddrNpi: 1,
        destinationAddr: "4915112345678",
        esmClass: 0,
        protocolId: 0,
        priorityFlag: 0,
        scheduleDeliveryTime: "",
        validityPeriod: "",
        registeredDelivery: 1,
        replaceIfPresentFlag: 0,
        dataCoding: GSM_DEFAULT,
        smDefaultMsgId: 0,
        shortMessage: Either.getOrThrow(Text.encode(submitText, GSM_DEFAULT)),
        tlvs: { userMessageReference: 42, sourcePort: 1234 }
      }
      s += Codec.encode(pdu).length
    }
    return s
  },
  /** decode, then the short_message as text: what node-smpp's decode always does */
  decodeTextSubmit: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const r = Codec.decode(submitBytes)
      if (Either.isRight(r) && r.right._tag === "submit_sm") {
        s += Text.decode(r.right.shortMessage, r.right.dataCoding).length
      }
    }
    return s
  },
  decodeTextDeliver: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const r = Codec.decode(deliverBytes)
      if (Either.isRight(r) && r.right._tag === "deliver_sm") {
        s += Text.decode(r.right.shortMessage, r.right.dataCoding).length
      }
    }
    return s
  }
}

const theirs = {
  encodeSubmit: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += submitSmpp.toBuffer().length
    return s
  },
  decodeSubmit: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const pdu = smpp.PDU.fromBuffer(submitSmppBytes)
      if (pdu !== false) s += pdu.sequence_number
    }
    return s
  },
  encodeDeliver: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += deliverSmpp.toBuffer().length
    return s
  },
  decodeDeliver: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const pdu = smpp.PDU.fromBuffer(deliverSmppBytes)
      if (pdu !== false) s += pdu.sequence_number
    }
    return s
  },
  encodeEnquire: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += enquireSmpp.toBuffer().length
    return s
  },
  decodeEnquire: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const pdu = smpp.PDU.fromBuffer(enquireSmppBytes)
      if (pdu !== false) s += pdu.sequence_number
    }
    return s
  },
  /** as `session.submit_sm(fields)` does: a new PDU, then toBuffer */
  newEncodeSubmit: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += new smpp.PDU("submit_sm", submitSmppBuffer).toBuffer().length
    return s
  },
  newEncodeSubmitString: (n: number) => {
    let s = 0
    for (let i = 0; i < n; i++) s += new smpp.PDU("submit_sm", submitSmppString).toBuffer().length
    return s
  }
}

interface Row {
  readonly label: string
  readonly ours: Loop
  readonly smpp: Loop
}

const rows: ReadonlyArray<Row> = [
  { label: "submit_sm encode", ours: ours.encodeSubmit, smpp: theirs.encodeSubmit },
  { label: "submit_sm decode", ours: ours.decodeSubmit, smpp: theirs.decodeSubmit },
  { label: "deliver_sm (receipt) encode", ours: ours.encodeDeliver, smpp: theirs.encodeDeliver },
  { label: "deliver_sm (receipt) decode", ours: ours.decodeDeliver, smpp: theirs.decodeDeliver },
  { label: "enquire_link encode", ours: ours.encodeEnquire, smpp: theirs.encodeEnquire },
  { label: "enquire_link decode", ours: ours.decodeEnquire, smpp: theirs.decodeEnquire },
  { label: "submit_sm build+encode, octets [a]", ours: ours.fastMakeEncodeSubmit, smpp: theirs.newEncodeSubmit },
  { label: "  same, with SubmitSm.make [a']", ours: ours.makeEncodeSubmit, smpp: theirs.newEncodeSubmit },
  { label: "submit_sm build+encode, text [b]", ours: ours.literalEncodeSubmitText, smpp: theirs.newEncodeSubmitString },
  { label: "submit_sm decode to text [c]", ours: ours.decodeTextSubmit, smpp: theirs.decodeSubmit },
  { label: "deliver_sm decode to text [c]", ours: ours.decodeTextDeliver, smpp: theirs.decodeDeliver }
]

// ---------------------------------------------------------------------------
// Run and print
// ---------------------------------------------------------------------------

const settings = settingsFromEnv()
const cpuModel = os.cpus()[0]?.model ?? "unknown CPU"

console.log("Codec benchmark: @effect-smpp/schema vs node-smpp")
console.log(
  `Node ${process.version} (V8 ${process.versions.v8}), ${os.platform()}/${os.arch()}, ${cpuModel} (${os.cpus().length} cores), node-smpp ${smppVersion}`
)
console.log(
  `One core, one process, both libraries in the same run. Per row: warm-up (${settings.warmupOps} ops or ` +
    `${settings.warmupMaxMs} ms), then ${settings.rounds} timed rounds of ${settings.roundMs} ms, ours and ` +
    `node-smpp alternating; the table shows the median ops/s and ±(max−min)/2 of the rounds, relative to it.`
)
console.log(`Same wire bytes from both encoders: ${checks.map(([n, ok]) => `${n} ${ok ? "yes" : "NO"}`).join(", ")}`)
console.log("Decoded fields checked equal (short_message compared as text).")
console.log("")

// A loop used by two rows is measured once.
const measured = new Map<Loop, Result>()
const started = performance.now()
const cpuBefore = process.cpuUsage()
const results = rows.map((row) => {
  const todo = [row.ours, row.smpp].filter((loop) => !measured.has(loop))
  measure(todo, settings).forEach((result, i) => measured.set(todo[i], result))
  return { row, ours: measured.get(row.ours)!, smpp: measured.get(row.smpp)! }
})
const wallMs = performance.now() - started
const cpu = process.cpuUsage(cpuBefore)
// user+system time of the whole process (GC helper threads included) over wall time
const cpuShare = (cpu.user + cpu.system) / 1000 / wallMs

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US")
const spread = (r: Result): string => `±${((100 * (r.max - r.min)) / r.median / 2).toFixed(1)}%`
const table = [
  ["case", "ours ops/s", "spread", "smpp ops/s", "spread", "ratio (ours/smpp)"],
  ...results.map(({ ours, row, smpp }) => [
    row.label,
    fmt(ours.median),
    spread(ours),
    fmt(smpp.median),
    spread(smpp),
    (ours.median / smpp.median).toFixed(2) + "x"
  ])
]
const widths = table[0].map((_, c) => Math.max(...table.map((line) => line[c].length)))
for (const [i, line] of table.entries()) {
  console.log(line.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(" | "))
  if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("-|-"))
}

console.log("")
console.log("How to read: ops/s on one core; ratio > 1 means ours is faster. Absolute numbers depend on the")
console.log("machine, the ratios much less. The first six rows are the codecs alone: a PDU object built once,")
console.log("encoded again and again; bytes written by the same library decoded again and again. node-smpp's")
console.log("decode always turns short_message into a JS string (data_coding 0 → GSM text); ours returns octets.")
console.log(
  `This process had ${(100 * cpuShare).toFixed(0)}% of a core while measuring` +
    (cpuShare < 0.9 ? ": other processes took part of this core, so every number above is low; rerun on a quiet machine." : ".")
)
console.log("[a] ours: Pdu.make(\"submit_sm\", fields) (defaults, no validation; the encoder checks) + Codec.encode;")
console.log("[a'] ours: Pdu.SubmitSm.make(fields) (Schema constructor, validates every field) + Codec.encode;")
console.log("    smpp: new PDU('submit_sm', fields with a Buffer short_message).toBuffer().")
console.log("[b] ours: Text.encode(text, 0) + a plain object literal of the whole submit_sm (no make) + encode;")
console.log("    smpp: new PDU with short_message as a JS string (as its users call it; GSM-encoded by node-smpp).")
console.log("[c] ours: decode + Text.decode(shortMessage, dataCoding); smpp: its plain decode (same number as above).")

const encodeRate = measured.get(ours.encodeSubmit)!.median
const decodeRate = measured.get(ours.decodeSubmit)!.median
const met = encodeRate >= 1_000_000 && decodeRate >= 1_000_000
console.log("")
console.log(
  `Goal (>= 1,000,000 submit_sm encodes/s and decodes/s): ${met ? "MET" : "NOT MET"} — ` +
    `encode ${fmt(encodeRate)}/s, decode ${fmt(decodeRate)}/s (${(wallMs / 1000).toFixed(1)} s; ` +
    `sink ${sinkValue()})` + (cpuShare < 0.9 ? " — on a busy machine, see above" : "")
)
