import { assert, describe, it } from "@effect/vitest"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as GatewayConfig from "../src/GatewayConfig.js"

const env = (entries: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))

const invalidKey = (json: unknown): string => {
  const result = GatewayConfig.decode(json)
  if (Either.isRight(result)) throw new Error("expected a failure")
  assert.strictEqual(result.left.reason, "InvalidValue")
  return result.left.key
}

describe("GatewayConfig", () => {
  it("has the documented defaults", () => {
    const d = GatewayConfig.defaults
    assert.strictEqual(d.smpp.port, 2775)
    assert.strictEqual(d.http.port, 8080)
    assert.strictEqual(d.store.filename, "./data/gateway.db")
    assert.strictEqual(d.defaultConnector, "simulator")
    assert.deepStrictEqual(d.routes, [])
    assert.strictEqual(d.accounts.length, 1)
    assert.strictEqual(d.accounts[0].systemId, "demo")
    assert.strictEqual(d.accounts[0].password, "demo")
    assert.deepStrictEqual(d.accounts[0].bindKinds, ["transmitter", "receiver", "transceiver"])
    assert.strictEqual(d.simulator.defaultOutcome, "DELIVRD")
    assert.strictEqual(Duration.toMillis(d.delivery.ttl), 48 * 3600_000)
    assert.strictEqual(Duration.toMillis(d.delivery.commitWindow), 10)
    assert.strictEqual(Duration.toMillis(d.delivery.checkInterval), 5000)
    // undefined: decided by the store (on with SQLite, off with PostgreSQL)
    assert.strictEqual(d.delivery.releaseLeasesOnStart, undefined)
    assert.strictEqual(d.http.adminToken, undefined)
    assert.strictEqual(d.store.url, undefined)
    assert.strictEqual(d.store.maxConnections, 10)
    assert.strictEqual(d.accounts[0].deliverWith, "deliver_sm")
  })

  it("reads the admin token, the PostgreSQL URL and an account's delivery PDU, keeping secrets redacted", () => {
    const settings = Either.getOrThrow(GatewayConfig.decode({
      http: { adminToken: "s3cret" },
      store: { url: "postgres://gw:pw@db.example:5432/gateway", maxConnections: 4 },
      accounts: [{ systemId: "demo", password: "demo", deliverWith: "data_sm" }]
    }))
    assert.strictEqual(Redacted.value(settings.http.adminToken!), "s3cret")
    assert.strictEqual(Redacted.value(settings.store.url!), "postgres://gw:pw@db.example:5432/gateway")
    assert.strictEqual(settings.store.maxConnections, 4)
    assert.strictEqual(settings.accounts[0].deliverWith, "data_sm")
    // printed or logged, they stay hidden
    assert.notInclude(JSON.stringify(settings), "s3cret")
    assert.notInclude(JSON.stringify(settings), "gw:pw")
    assert.isTrue(Either.isRight(GatewayConfig.decode({ store: { url: "postgresql://localhost/gateway" } })))
  })

  it("refuses an empty admin token, a URL that is not PostgreSQL (without echoing it) and an unknown PDU", () => {
    assert.strictEqual(invalidKey({ http: { adminToken: "" } }), "http.adminToken")
    assert.strictEqual(invalidKey({ store: { url: "mysql://root:hunter2@db/gw" } }), "store.url")
    const result = GatewayConfig.decode({ store: { url: "mysql://root:hunter2@db/gw" } })
    assert.isTrue(Either.isLeft(result) && !result.left.message.includes("hunter2"))
    assert.strictEqual(
      invalidKey({ accounts: [{ systemId: "demo", password: "demo", deliverWith: "submit_sm" }] }),
      "accounts[0].deliverWith"
    )
  })

  it("decodes durations, status names and rules", () => {
    const settings = Either.getOrThrow(GatewayConfig.decode({
      routes: [{ prefix: "49", connector: "upstream-de" }],
      delivery: { ttl: "2 hours", retryBase: 500, commitWindow: "25 millis", releaseLeasesOnStart: true },
      simulator: {
        rules: [{ prefix: "4915", percent: 30, outcome: "UNDELIV", delay: "3 seconds", errorCode: 11 }],
        submitErrors: [{ percent: 5, status: "ESME_RSUBMITFAIL" }, { percent: 1, status: 0x400 }]
      }
    }))
    assert.strictEqual(Duration.toMillis(settings.delivery.ttl), 7_200_000)
    assert.strictEqual(Duration.toMillis(settings.delivery.retryBase), 500)
    assert.strictEqual(Duration.toMillis(settings.delivery.commitWindow), 25)
    assert.strictEqual(settings.delivery.releaseLeasesOnStart, true)
    assert.strictEqual(settings.simulator.rules[0].outcome, "UNDELIV")
    assert.strictEqual(Duration.toMillis(settings.simulator.rules[0].delay!), 3000)
    assert.strictEqual(settings.simulator.submitErrors[0].status, CommandStatus.ESME_RSUBMITFAIL)
    assert.strictEqual(settings.simulator.submitErrors[1].status, 0x400)
    assert.strictEqual(settings.routes[0].connector, "upstream-de")
  })

  it("names the key of a bad value", () => {
    assert.strictEqual(invalidKey({ smpp: { port: 70000 } }), "smpp.port")
    assert.strictEqual(invalidKey({ delivery: { ttl: "soon" } }), "delivery.ttl")
    assert.strictEqual(invalidKey({ simulator: { rules: [{ outcome: "LOST" }] } }), "simulator.rules[0].outcome")
    assert.strictEqual(
      invalidKey({ simulator: { submitErrors: [{ percent: 1, status: "ESME_NOPE" }] } }),
      "simulator.submitErrors[0].status"
    )
    assert.strictEqual(invalidKey({ smpp: { prot: 1 } }), "smpp.prot")
    const hash = "scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=="
    assert.strictEqual(
      invalidKey({ accounts: [{ systemId: "acme", password: hash }, { systemId: "acme", password: hash }] }),
      "accounts[1].systemId"
    )
  })

  it("allows a plain-text password for the demo account only", () => {
    const result = GatewayConfig.decode({ accounts: [{ systemId: "acme", password: "secret" }] })
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.strictEqual(result.left.key, "accounts[0].password")
      assert.include(result.left.message, "plain-text password is allowed only for the demo account")
    }
    assert.isTrue(Either.isRight(GatewayConfig.decode({ accounts: [{ systemId: "demo", password: "demo" }] })))
    assert.strictEqual(invalidKey({ accounts: [{ systemId: "acme", password: "scrypt$3$8$1$x$y" }] }), "accounts[0].password")
  })

  it("reports bad JSON", () => {
    const result = GatewayConfig.decodeJson("{ nope", "gateway.json")
    assert.isTrue(Either.isLeft(result) && result.left.reason === "InvalidJson" && result.left.key === "gateway.json")
  })

  it.effect("reads a file, then lets the environment override it", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "gateway-config-"))
      const path = join(dir, "gateway.json")
      writeFileSync(path, JSON.stringify({ smpp: { port: 3000 }, http: { port: 9000 }, defaultConnector: "relay" }))
      const fromFile = yield* GatewayConfig.load({ path }).pipe(env({}))
      assert.strictEqual(fromFile.smpp.port, 3000)
      assert.strictEqual(fromFile.http.port, 9000)
      assert.strictEqual(fromFile.defaultConnector, "relay")
      const overridden = yield* GatewayConfig.load({ path }).pipe(env({ SMPP_PORT: "2776", GATEWAY_DB: "/tmp/x.db" }))
      assert.strictEqual(overridden.smpp.port, 2776)
      assert.strictEqual(overridden.http.port, 9000)
      assert.strictEqual(overridden.store.filename, "/tmp/x.db")
      assert.strictEqual(overridden.store.url, undefined)
      // the path may come from GATEWAY_CONFIG
      const viaEnv = yield* GatewayConfig.load().pipe(env({ GATEWAY_CONFIG: path }))
      assert.strictEqual(viaEnv.smpp.port, 3000)
      rmSync(dir, { recursive: true, force: true })
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("ADMIN_TOKEN and DATABASE_URL override the file; an empty ADMIN_TOKEN is not set", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "gateway-config-"))
      const path = join(dir, "gateway.json")
      writeFileSync(path, JSON.stringify({ http: { adminToken: "from-file" }, store: { filename: "/tmp/f.db" } }))
      const fromFile = yield* GatewayConfig.load({ path }).pipe(env({ ADMIN_TOKEN: "" }))
      assert.strictEqual(Redacted.value(fromFile.http.adminToken!), "from-file")
      assert.strictEqual(fromFile.store.url, undefined)
      const overridden = yield* GatewayConfig.load({ path }).pipe(env({
        ADMIN_TOKEN: "from-env",
        DATABASE_URL: "postgres://gw:pw@127.0.0.1:5433/gw"
      }))
      assert.strictEqual(Redacted.value(overridden.http.adminToken!), "from-env")
      assert.strictEqual(Redacted.value(overridden.store.url!), "postgres://gw:pw@127.0.0.1:5433/gw")
      assert.strictEqual(overridden.store.filename, "/tmp/f.db")
      const envOnly = yield* GatewayConfig.load().pipe(env({ ADMIN_TOKEN: "only-env" }))
      assert.strictEqual(Redacted.value(envOnly.http.adminToken!), "only-env")
      const badUrl = yield* Effect.flip(GatewayConfig.load().pipe(env({ DATABASE_URL: "db.example:5432" })))
      assert.strictEqual(badUrl.reason, "InvalidEnvironment")
      assert.strictEqual(badUrl.key, "DATABASE_URL")
      rmSync(dir, { recursive: true, force: true })
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("fails with the key for a bad environment value or a missing file", () =>
    Effect.gen(function*() {
      const badPort = yield* Effect.flip(GatewayConfig.load().pipe(env({ SMPP_PORT: "abc" })))
      assert.strictEqual(badPort.reason, "InvalidEnvironment")
      assert.strictEqual(badPort.key, "SMPP_PORT")
      const missing = yield* Effect.flip(GatewayConfig.load({ path: "/nonexistent/gateway.json" }).pipe(env({})))
      assert.strictEqual(missing.reason, "ReadFailed")
      assert.strictEqual(missing.key, "/nonexistent/gateway.json")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("provides the settings as a service", () =>
    Effect.gen(function*() {
      const config = yield* GatewayConfig.GatewayConfig
      assert.strictEqual(config.smpp.port, 2775)
    }).pipe(Effect.provide(GatewayConfig.Test)))
})
