/**
 * The HTTP API over a real socket (127.0.0.1, port 0) in front of the gateway's real
 * services: SQLite in memory, the simulator, the SMPP server, the delivery worker.
 */
import { assert, describe, it } from "@effect/vitest"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { DeliveryQueue } from "../../src/DeliveryQueue.js"
import * as Esme from "../fixtures/esme.js"
import { ADMIN_TOKEN, basic, call, start } from "./fixtures.js"

const DEMO = basic("demo", "demo")
const ACME = basic("acme", "acmepass")

const eventually = <A, E>(check: Effect.Effect<A, E>) =>
  Effect.retry(check, Schedule.intersect(Schedule.spaced("20 millis"), Schedule.recurs(250)))

describe("HTTP API", () => {
  it.scopedLive("POST /messages stores the message and answers 201 with its id; GET /messages/{id} reads it back", () =>
    Effect.gen(function*() {
      const { httpPort } = yield* start()
      const sent = yield* call(httpPort, "POST", "/messages", {
        auth: DEMO,
        body: { from: "Acme", to: "+491701234567", text: "hello", registeredDelivery: true }
      })
      assert.strictEqual(sent.status, 201, sent.text)
      assert.strictEqual(sent.json.parts, 1)
      assert.strictEqual(sent.json.dataCoding, 0)
      assert.strictEqual(sent.json.ids.length, 1)
      const id = sent.json.ids[0] as string
      assert.match(id, /^[0-9a-f]{16}$/)

      const read = yield* call(httpPort, "GET", `/messages/${id}`, { auth: DEMO })
      assert.strictEqual(read.status, 200, read.text)
      assert.strictEqual(read.json.id, id)
      assert.strictEqual(read.json.from, "Acme")
      assert.strictEqual(read.json.to, "491701234567")
      assert.strictEqual(read.json.text, "hello")
      assert.strictEqual(read.json.registeredDelivery, 1)
      assert.isString(read.json.createdAt)

      // the simulator delivers it 50 ms later
      const delivered = yield* eventually(
        Effect.flatMap(call(httpPort, "GET", `/messages/${id}`, { auth: DEMO }), (reply) =>
          reply.json.state === "DELIVERED" ? Effect.succeed(reply) : Effect.fail("not yet"))
      )
      assert.strictEqual(delivered.json.stateCode, MessageState.DELIVERED)
      assert.strictEqual(delivered.json.errorCode, 0)
      assert.isString(delivered.json.doneAt)
    }))

  it.scopedLive("a long text is split into parts, one id each; UCS-2 when GSM 03.38 cannot carry it", () =>
    Effect.gen(function*() {
      const { httpPort } = yield* start()
      const text = "x".repeat(200)
      const sent = yield* call(httpPort, "POST", "/messages", { auth: DEMO, body: { from: "Acme", to: "4917012", text } })
      assert.strictEqual(sent.status, 201, sent.text)
      assert.strictEqual(sent.json.parts, 2)
      assert.strictEqual(new Set(sent.json.ids).size, 2)
      const parts = yield* Effect.forEach(
        sent.json.ids as Array<string>,
        (id) => call(httpPort, "GET", `/messages/${id}`, { auth: DEMO })
      )
      // the UDH is stripped from the text; the parts add up to the whole
      assert.strictEqual(parts.map((part) => part.json.text).join(""), text)
      assert.strictEqual(parts[0].json.esmClass & 0x40, 0x40)
      assert.strictEqual(parts[0].json.text.length, 153)

      const unicode = yield* call(httpPort, "POST", "/messages", {
        auth: DEMO,
        body: { from: "Acme", to: "4917012", text: "Привет ".repeat(20) }
      })
      assert.strictEqual(unicode.status, 201, unicode.text)
      assert.strictEqual(unicode.json.dataCoding, 8)
      assert.strictEqual(unicode.json.parts, 3) // 140 UCS-2 units, 67 per part

      const binary = yield* call(httpPort, "POST", "/messages", {
        auth: DEMO,
        body: { from: "Acme", to: "4917012", hex: "0001fffe" }
      })
      assert.strictEqual(binary.status, 201, binary.text)
      assert.strictEqual(binary.json.dataCoding, 4)
      const stored = yield* call(httpPort, "GET", `/messages/${binary.json.ids[0]}`, { auth: DEMO })
      assert.strictEqual(stored.json.hex, "0001fffe")
      assert.isNull(stored.json.text)
    }))

  it.scopedLive("401 without credentials, with a wrong password or an unknown system_id; a scrypt account works", () =>
    Effect.gen(function*() {
      const { httpPort } = yield* start()
      const body = { from: "Acme", to: "4917012", text: "hi" }
      const none = yield* call(httpPort, "POST", "/messages", { body })
      assert.strictEqual(none.status, 401)
      assert.strictEqual(none.json._tag, "Unauthorized")
      const wrong = yield* call(httpPort, "POST", "/messages", { body, auth: basic("demo", "nope") })
      assert.strictEqual(wrong.status, 401)
      const unknown = yield* call(httpPort, "POST", "/messages", { body, auth: basic("nobody", "demo") })
      assert.strictEqual(unknown.status, 401)
      const wrongHashed = yield* call(httpPort, "POST", "/messages", { body, auth: basic("acme", "demo") })
      assert.strictEqual(wrongHashed.status, 401)
      const right = yield* call(httpPort, "POST", "/messages", { body, auth: ACME })
      assert.strictEqual(right.status, 201, right.text)
      // remembered: the second request with the same credentials also passes
      const again = yield* call(httpPort, "POST", "/messages", { body, auth: ACME })
      assert.strictEqual(again.status, 201, again.text)
    }))

  it.scopedLive("429 ESME_RTHROTTLED over the account's throughput, with the ids accepted before", () =>
    Effect.gen(function*() {
      const { httpPort } = yield* start()
      // `slow` takes 1 message per second; a two-part message gets its first part in
      const reply = yield* call(httpPort, "POST", "/messages", {
        auth: basic("slow", "slowpass"),
        body: { from: "Acme", to: "4917012", text: "y".repeat(200) }
      })
      assert.strictEqual(reply.status, 429, reply.text)
      assert.strictEqual(reply.json._tag, "Throttled")
      assert.strictEqual(reply.json.status, "ESME_RTHROTTLED")
      assert.strictEqual(reply.json.ids.length, 1)
    }))

  it.scopedLive("400 for bad input, with the SMPP status name", () =>
    Effect.gen(function*() {
      const { httpPort } = yield* start()
      const post = (body: unknown) => call(httpPort, "POST", "/messages", { auth: DEMO, body })

      const noBody = yield* post({ from: "Acme", to: "4917012" })
      assert.strictEqual(noBody.status, 400)
      assert.deepInclude(noBody.json, { _tag: "BadRequest", status: "ESME_RINVMSGLEN" })

      const both = yield* post({ from: "Acme", to: "4917012", text: "a", hex: "00" })
      assert.strictEqual(both.status, 400)

      const missingTo = yield* post({ from: "Acme", text: "a" })
      assert.strictEqual(missingTo.status, 400)
      assert.strictEqual(missingTo.json._tag, "HttpApiDecodeError")

      const badHex = yield* post({ from: "Acme", to: "4917012", hex: "abc" })
      assert.strictEqual(badHex.status, 400)

      const badTime = yield* post({ from: "Acme", to: "4917012", text: "a", scheduleDeliveryTime: "tomorrow-ish" })
      assert.strictEqual(badTime.status, 400)
      assert.strictEqual(badTime.json.status, "ESME_RINVSCHED")

      const past = yield* post({ from: "Acme", to: "4917012", text: "a", validityPeriod: "2001-01-01T00:00:00Z" })
      assert.strictEqual(past.status, 400)
      assert.strictEqual(past.json.status, "ESME_RINVEXPIRY")

      const notGsm = yield* post({ from: "Acme", to: "4917012", text: "Привет", dataCoding: 0 })
      assert.strictEqual(notGsm.status, 400)
      assert.strictEqual(notGsm.json.status, "ESME_RSUBMITFAIL")

      const badFlag = yield* post({ from: "Acme", to: "4917012", text: "a", registeredDelivery: 3 })
      assert.strictEqual(badFlag.status, 400)
    }))

  it.scopedLive("a scheduled message is kept ENROUTE with its schedule", () =>
    Effect.gen(function*() {
      const { httpPort } = yield* start()
      const sent = yield* call(httpPort, "POST", "/messages", {
        auth: DEMO,
        body: { from: "Acme", to: "4917012", text: "later", scheduleDeliveryTime: "000000010000000R" }
      })
      assert.strictEqual(sent.status, 201, sent.text)
      const read = yield* call(httpPort, "GET", `/messages/${sent.json.ids[0]}`, { auth: DEMO })
      assert.strictEqual(read.json.state, "ENROUTE")
      const due = Date.parse(read.json.scheduleDeliveryTime) - Date.parse(read.json.createdAt)
      assert.isTrue(due > 3_590_000 && due <= 3_600_000, `due in ${due} ms`)
    }))

  it.scopedLive("GET /messages/{id}: 404 for another account's message and for an unknown id", () =>
    Effect.gen(function*() {
      const { httpPort } = yield* start()
      const sent = yield* call(httpPort, "POST", "/messages", {
        auth: ACME,
        body: { from: "Acme", to: "4917012", text: "mine" }
      })
      const id = sent.json.ids[0] as string
      const own = yield* call(httpPort, "GET", `/messages/${id}`, { auth: ACME })
      assert.strictEqual(own.status, 200)
      const other = yield* call(httpPort, "GET", `/messages/${id}`, { auth: DEMO })
      assert.strictEqual(other.status, 404)
      assert.strictEqual(other.json._tag, "NotFound")
      const unknown = yield* call(httpPort, "GET", "/messages/ffffffffffffffff", { auth: DEMO })
      assert.strictEqual(unknown.status, 404)
      const anonymous = yield* call(httpPort, "GET", `/messages/${id}`)
      assert.strictEqual(anonymous.status, 401)
    }))

  it.scopedLive("POST /mo is queued for the account, then delivered to its receiver session", () =>
    Effect.gen(function*() {
      const gateway = yield* start()
      const queue = Context.get(gateway.context, DeliveryQueue)
      const reply = yield* call(gateway.httpPort, "POST", "/mo", {
        auth: DEMO,
        body: { from: "+491709876543", to: "12345", text: "STOP" }
      })
      assert.strictEqual(reply.status, 202, reply.text)
      assert.strictEqual(reply.json.account, "demo")
      assert.strictEqual(reply.json.dataCoding, 0)
      assert.isNumber(reply.json.id)
      // no receiver bound yet: it waits in the delivery queue, persisted
      assert.strictEqual(yield* queue.size("demo"), 1)
      assert.strictEqual(yield* queue.size("acme"), 0)

      const esme = yield* Esme.bound(gateway.smppPort, { kind: "receiver" })
      yield* Esme.until(esme, () => esme.received.length > 0, "the MO")
      const mo = esme.received[0]
      assert.strictEqual(mo.command, "deliver_sm")
      assert.strictEqual(mo.source_addr, "491709876543")
      assert.strictEqual(mo.destination_addr, "12345")
      assert.strictEqual(Esme.textOf(mo), "STOP")
      // acknowledged: gone from the queue
      yield* eventually(Effect.flatMap(queue.size("demo"), (n) => (n === 0 ? Effect.void : Effect.fail("not yet"))))
    }))

  it.scopedLive("POST /mo: the admin names the account; an account only for itself", () =>
    Effect.gen(function*() {
      const { context, httpPort } = yield* start()
      const queue = Context.get(context, DeliveryQueue)
      const body = { from: "491709876543", to: "12345", text: "Ünïcødé ✓" }
      const admin = `Bearer ${ADMIN_TOKEN}`

      const noAccount = yield* call(httpPort, "POST", "/mo", { auth: admin, body })
      assert.strictEqual(noAccount.status, 400)
      const byAdmin = yield* call(httpPort, "POST", "/mo", { auth: admin, body: { ...body, account: "acme" } })
      assert.strictEqual(byAdmin.status, 202, byAdmin.text)
      assert.strictEqual(byAdmin.json.account, "acme")
      assert.strictEqual(byAdmin.json.dataCoding, 8) // ✓ is not in GSM 03.38
      assert.strictEqual(yield* queue.size("acme"), 1)

      const unknown = yield* call(httpPort, "POST", "/mo", { auth: admin, body: { ...body, account: "nobody" } })
      assert.strictEqual(unknown.status, 400)
      assert.strictEqual(unknown.json.status, "ESME_RINVSYSID")
      const forOther = yield* call(httpPort, "POST", "/mo", { auth: DEMO, body: { ...body, account: "acme" } })
      assert.strictEqual(forOther.status, 403)
      const badToken = yield* call(httpPort, "POST", "/mo", { auth: "Bearer wrong", body: { ...body, account: "acme" } })
      assert.strictEqual(badToken.status, 401)
      assert.strictEqual(yield* queue.size("acme"), 1)
    }))

  it.scopedLive("GET /sessions needs the admin token and lists the bound sessions", () =>
    Effect.gen(function*() {
      const { httpPort, smppPort } = yield* start()
      yield* Esme.bound(smppPort, { kind: "transceiver" })

      const anonymous = yield* call(httpPort, "GET", "/sessions")
      assert.strictEqual(anonymous.status, 401)
      const asAccount = yield* call(httpPort, "GET", "/sessions", { auth: DEMO })
      assert.strictEqual(asAccount.status, 401)
      const wrong = yield* call(httpPort, "GET", "/sessions", { auth: "Bearer wrong" })
      assert.strictEqual(wrong.status, 401)

      const listed = yield* call(httpPort, "GET", "/sessions", { auth: `Bearer ${ADMIN_TOKEN}` })
      assert.strictEqual(listed.status, 200, listed.text)
      assert.strictEqual(listed.json.length, 1)
      const session = listed.json[0]
      assert.strictEqual(session.systemId, "demo")
      assert.strictEqual(session.bindKind, "transceiver")
      assert.strictEqual(session.state, "BOUND_TRX")
      assert.match(session.peer, /127\.0\.0\.1/)
      assert.isAtLeast(session.stats.pdusIn, 1)
    }))

  it.scopedLive("without an admin token, admin endpoints refuse everyone", () =>
    Effect.gen(function*() {
      const { httpPort } = yield* start({ adminToken: "" })
      const reply = yield* call(httpPort, "GET", "/sessions", { auth: "Bearer " })
      assert.strictEqual(reply.status, 401)
      assert.include(reply.json.error, "no admin token")
    }))

  it.scopedLive("GET /health answers without authentication", () =>
    Effect.gen(function*() {
      const { httpPort, smppPort } = yield* start()
      yield* Esme.bound(smppPort)
      const reply = yield* call(httpPort, "GET", "/health")
      assert.strictEqual(reply.status, 200, reply.text)
      assert.strictEqual(reply.json.status, "ok")
      assert.strictEqual(reply.json.store, "ok")
      assert.strictEqual(reply.json.sessions, 1)
      assert.isAtLeast(reply.json.uptime, 0)
    }))

  it.scopedLive("GET /metrics is Prometheus text with the smpp_ metrics", () =>
    Effect.gen(function*() {
      const { httpPort, smppPort } = yield* start()
      yield* Esme.bound(smppPort)
      yield* call(httpPort, "POST", "/messages", { auth: DEMO, body: { from: "Acme", to: "4917012", text: "m" } })
      const reply = yield* call(httpPort, "GET", "/metrics")
      assert.strictEqual(reply.status, 200)
      assert.match(reply.contentType, /^text\/plain; version=0\.0\.4/)
      assert.include(reply.text, "# TYPE smpp_pdus_in counter\n")
      assert.match(reply.text, /^smpp_pdus_in\{command="bind_transceiver"\} \d+$/m)
      assert.include(reply.text, "# TYPE smpp_bound_sessions gauge\n")
      assert.match(reply.text, /^smpp_bound_sessions\{bind_kind="transceiver"\} 1$/m)
      assert.match(reply.text, /^smpp_http_submits\{result="accepted"\} \d+$/m)
      assert.match(reply.text, /^smpp_delivery_queue_items \d+$/m)
      // every line a comment or a sample
      for (const line of reply.text.trimEnd().split("\n")) {
        assert.match(line, /^(# (HELP|TYPE) \S+ .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+)$/)
      }
    }))

  it.scopedLive("GET /openapi.json is an OpenAPI 3 document of every path", () =>
    Effect.gen(function*() {
      const { httpPort } = yield* start()
      const reply = yield* call(httpPort, "GET", "/openapi.json")
      assert.strictEqual(reply.status, 200)
      const doc = reply.json
      assert.match(doc.openapi, /^3\./)
      assert.strictEqual(doc.info.title, "effect-smpp gateway")
      assert.includeMembers(Object.keys(doc.paths), [
        "/messages",
        "/messages/{id}",
        "/mo",
        "/sessions",
        "/health",
        "/metrics"
      ])
      assert.property(doc.paths["/messages"], "post")
      assert.property(doc.paths["/messages"].post.responses, "201")
      assert.property(doc.paths["/messages"].post.responses, "429")
      const schemes = Object.values(doc.components.securitySchemes) as Array<{ type: string; scheme: string }>
      assert.isTrue(schemes.some((s) => s.scheme === "basic"))
      assert.isTrue(schemes.some((s) => s.scheme === "bearer"))
      const docs = yield* call(httpPort, "GET", "/docs")
      assert.strictEqual(docs.status, 200)
      assert.match(docs.contentType, /text\/html/)
    }))
})
