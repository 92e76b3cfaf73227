import { assert, describe, it } from "@effect/vitest"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as SmppTime from "@effect-smpp/schema/SmppTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as GatewayConfig from "../../src/GatewayConfig.js"
import * as HttpHandlers from "../../src/http/HttpHandlers.js"
import type { Message } from "../../src/MessageStore.js"
import { SubmitError } from "../../src/Submissions.js"

const request = { from: "Acme", to: "+491701234567" }

describe("HttpHandlers.toSubmits", () => {
  it("builds one submit_sm for a short text, GSM 03.38, addresses typed", () => {
    const result = Either.getOrThrow(HttpHandlers.toSubmits({ ...request, text: "hello", registeredDelivery: true }, 7))
    assert.strictEqual(result.dataCoding, 0)
    assert.strictEqual(result.pdus.length, 1)
    const pdu = result.pdus[0]
    assert.strictEqual(pdu._tag, "submit_sm")
    assert.strictEqual(pdu.sourceAddr, "Acme")
    assert.strictEqual(pdu.sourceAddrTon, 5)
    assert.strictEqual(pdu.destinationAddr, "491701234567")
    assert.strictEqual(pdu.destAddrTon, 1)
    assert.strictEqual(pdu.destAddrNpi, 1)
    assert.strictEqual(pdu.registeredDelivery, 1)
    assert.strictEqual(pdu.esmClass, 0)
    assert.deepStrictEqual([...pdu.shortMessage], [...Buffer.from("hello")])
  })

  it("splits a long text with a concatenation UDH carrying the reference", () => {
    const result = Either.getOrThrow(HttpHandlers.toSubmits({ ...request, text: "z".repeat(400) }, 0xab))
    assert.strictEqual(result.pdus.length, 3) // 153 + 153 + 94
    result.pdus.forEach((pdu, i) => {
      assert.strictEqual(pdu.esmClass, 0x40)
      // UDH: length 5, IE 0 (8-bit reference), 3 octets: reference, total, sequence
      assert.deepStrictEqual([...pdu.shortMessage.subarray(0, 6)], [5, 0, 3, 0xab, 3, i + 1])
    })
  })

  it("takes hex octets as 8-bit data, and registeredDelivery 2", () => {
    const result = Either.getOrThrow(HttpHandlers.toSubmits({ ...request, hex: "00ff10", registeredDelivery: 2 }, 0))
    assert.strictEqual(result.dataCoding, 4)
    assert.deepStrictEqual([...result.pdus[0].shortMessage], [0, 0xff, 0x10])
    assert.strictEqual(result.pdus[0].registeredDelivery, 2)
  })

  it("refuses neither or both bodies, and text the data_coding cannot carry", () => {
    const neither = HttpHandlers.toSubmits(request, 0)
    assert.isTrue(Either.isLeft(neither) && neither.left.status === "ESME_RINVMSGLEN")
    const both = HttpHandlers.toSubmits({ ...request, text: "a", hex: "00" }, 0)
    assert.isTrue(Either.isLeft(both) && both.left.status === "ESME_RINVMSGLEN")
    const latin = HttpHandlers.toSubmits({ ...request, text: "✓", dataCoding: 3 }, 0)
    assert.isTrue(Either.isLeft(latin) && latin.left.status === "ESME_RSUBMITFAIL")
  })

  it("passes SMPP time strings through and turns ISO 8601 into absolute UTC times", () => {
    const relative = Either.getOrThrow(
      HttpHandlers.toSubmits({ ...request, text: "a", validityPeriod: "000001000000000R" }, 0)
    )
    assert.strictEqual(relative.pdus[0].validityPeriod, "000001000000000R")
    const iso = Either.getOrThrow(
      HttpHandlers.toSubmits({ ...request, text: "a", scheduleDeliveryTime: "2030-05-06T07:08:09.500Z" }, 0)
    )
    const parsed = Either.getOrThrow(SmppTime.parse(iso.pdus[0].scheduleDeliveryTime))
    assert.strictEqual(parsed._tag, "Absolute")
    assert.strictEqual(SmppTime.resolve(parsed, 0), Date.parse("2030-05-06T07:08:09.500Z"))
    const bad = HttpHandlers.toSubmits({ ...request, text: "a", validityPeriod: "soon" }, 0)
    assert.isTrue(Either.isLeft(bad) && bad.left.status === "ESME_RINVEXPIRY")
  })
})

describe("HttpHandlers conversions", () => {
  it("addressOf: numbers international, the rest alphanumeric (source) or unknown (destination)", () => {
    assert.deepStrictEqual(HttpHandlers.addressOf("+4917", "source"), { ton: 1, npi: 1, addr: "4917" })
    assert.deepStrictEqual(HttpHandlers.addressOf("12345", "destination"), { ton: 1, npi: 1, addr: "12345" })
    assert.deepStrictEqual(HttpHandlers.addressOf("Shop", "source"), { ton: 5, npi: 0, addr: "Shop" })
    assert.deepStrictEqual(HttpHandlers.addressOf("Shop", "destination"), { ton: 0, npi: 0, addr: "Shop" })
  })

  it("fromSubmitError: throttling is 429, the store 503, the rest 400, with the status name", () => {
    const throttled = HttpHandlers.fromSubmitError(
      new SubmitError({ reason: "Throttled", status: CommandStatus.ESME_RTHROTTLED, message: "slow down" }),
      ["a"]
    )
    assert.strictEqual(throttled._tag, "Throttled")
    assert.strictEqual(throttled.status, "ESME_RTHROTTLED")
    assert.deepStrictEqual(throttled._tag === "Throttled" ? throttled.ids : undefined, ["a"])
    // the simulator's throttling comes back as a connector refusal with the same status
    const upstream = HttpHandlers.fromSubmitError(
      new SubmitError({ reason: "Rejected", status: CommandStatus.ESME_RTHROTTLED, message: "connector" })
    )
    assert.strictEqual(upstream._tag, "Throttled")
    const store = HttpHandlers.fromSubmitError(
      new SubmitError({ reason: "Unavailable", status: CommandStatus.ESME_RSYSERR, message: "down" })
    )
    assert.strictEqual(store._tag, "Unavailable")
    const invalid = HttpHandlers.fromSubmitError(
      new SubmitError({ reason: "Invalid", status: CommandStatus.ESME_RINVDSTADR, message: "no destination" })
    )
    assert.deepInclude(invalid, { _tag: "BadRequest", status: "ESME_RINVDSTADR", error: "no destination" })
    assert.isUndefined(invalid._tag === "BadRequest" ? invalid.ids : "x")
    const unnamed = HttpHandlers.fromSubmitError(new SubmitError({ reason: "Rejected", status: 0x400, message: "?" }))
    assert.strictEqual(unnamed.status, "0x00000400")
  })

  it("messageView: state name and number, text without the UDH, ISO times", () => {
    const message: Message = {
      id: "00000000000000aa",
      account: "demo",
      serviceType: "",
      sourceAddrTon: 5,
      sourceAddrNpi: 0,
      sourceAddr: "Acme",
      destAddrTon: 1,
      destAddrNpi: 1,
      destinationAddr: "4917",
      esmClass: 0x40,
      protocolId: 0,
      priorityFlag: 0,
      dataCoding: 0,
      body: new Uint8Array([5, 0, 3, 1, 2, 1, 0x68, 0x69]),
      registeredDelivery: 1,
      scheduleDeliveryTime: null,
      validityPeriod: 0,
      state: MessageState.UNDELIVERABLE,
      errorCode: 1,
      connector: "simulator",
      upstreamId: null,
      receipt: "queued",
      createdAt: 1_000,
      updatedAt: 2_000,
      doneAt: 2_000
    }
    const view = HttpHandlers.messageView(message)
    assert.strictEqual(view.state, "UNDELIVERABLE")
    assert.strictEqual(view.stateCode, 5)
    assert.strictEqual(view.text, "hi")
    assert.strictEqual(view.hex, "0500030102016869")
    assert.strictEqual(view.createdAt, "1970-01-01T00:00:01.000Z")
    assert.strictEqual(view.validityPeriod, "1970-01-01T00:00:00.000Z")
    assert.isNull(view.scheduleDeliveryTime)
    assert.strictEqual(view.receipt, "queued")
    assert.isNull(HttpHandlers.messageView({ ...message, dataCoding: 4 }).text)
  })
})

describe("HttpHandlers admin token", () => {
  const tokenOf = (settings: GatewayConfig.Settings) =>
    HttpHandlers.AdminToken.pipe(
      Effect.provide(HttpHandlers.adminTokenFromConfig),
      Effect.provide(GatewayConfig.layer(settings))
    )

  it.effect("comes from GatewayConfig's http.adminToken, redacted; none when not configured", () =>
    Effect.gen(function*() {
      const settings = Either.getOrThrow(GatewayConfig.decode({ http: { adminToken: "t0ken" } }))
      const token = yield* tokenOf(settings)
      assert.isTrue(Option.isSome(token))
      assert.strictEqual(Redacted.value(Option.getOrThrow(token)), "t0ken")
      assert.notInclude(String(Option.getOrThrow(token)), "t0ken")
      assert.isTrue(Option.isNone(yield* tokenOf(GatewayConfig.defaults)))
    }))

  it.effect("a given empty token is none", () =>
    Effect.gen(function*() {
      const empty = yield* HttpHandlers.AdminToken.pipe(Effect.provide(HttpHandlers.adminToken("")))
      assert.isTrue(Option.isNone(empty))
      const given = yield* HttpHandlers.AdminToken.pipe(Effect.provide(HttpHandlers.adminToken(Redacted.make("x"))))
      assert.strictEqual(Redacted.value(Option.getOrThrow(given)), "x")
    }))
})
