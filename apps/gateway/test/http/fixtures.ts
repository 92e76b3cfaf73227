/**
 * The gateway's services with the HTTP API on 127.0.0.1 port 0 (address and admin token from
 * the settings), `Gateway.layerFromSettings` built in the test's Scope:
 * SQLite in memory, SMPP on port 0, a fast simulator, the delivery worker, and three
 * accounts — `demo`/`demo` (plain), `acme`/`acmepass` and `slow`/`slowpass` (scrypt, 1 msg/s).
 */
import * as PlatformHttpServer from "@effect/platform/HttpServer"
import * as SmppServer from "@effect-smpp/runtime/SmppServer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Gateway from "../../src/Gateway.js"
import * as GatewayConfig from "../../src/GatewayConfig.js"
import * as Password from "../../src/Password.js"

export const ADMIN_TOKEN = "s3cret-admin-token"

export const start = (options?: { readonly adminToken?: string | undefined }) =>
  Effect.gen(function*() {
    // a low scrypt cost: these tests are not about the hash
    const acme = yield* Password.hash("acmepass", { N: 1024 })
    const slow = yield* Password.hash("slowpass", { N: 1024 })
    // the admin token as a config file gives it ("" for none)
    const adminToken = options?.adminToken ?? ADMIN_TOKEN
    const settings = Either.getOrThrow(GatewayConfig.decode({
      smpp: { host: "127.0.0.1", port: 0 },
      http: { host: "127.0.0.1", port: 0, ...(adminToken === "" ? {} : { adminToken }) },
      store: { filename: ":memory:" },
      simulator: { defaultDelay: "50 millis" },
      accounts: [
        { systemId: "demo", password: "demo", maxThroughput: 100 },
        { systemId: "acme", password: acme },
        { systemId: "slow", password: slow, maxThroughput: 1 }
      ]
    }))
    const context = yield* Layer.build(Gateway.layerFromSettings(settings))
    const http = Context.get(context, PlatformHttpServer.HttpServer)
    const address = http.address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("the HTTP server is not on TCP")
    const server = Context.get(context, SmppServer.SmppServer)
    return { context, httpPort: address.port, smppPort: server.address!.port }
  }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)))

export interface Reply {
  readonly status: number
  readonly contentType: string
  readonly text: string
  readonly json: any
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`

/** One HTTP request to the API; the reply with its body read. */
export const call = (
  port: number,
  method: string,
  path: string,
  options?: { readonly body?: unknown; readonly auth?: string | undefined }
): Effect.Effect<Reply> =>
  Effect.promise(async () => {
    const headers: Record<string, string> = {}
    if (options?.auth !== undefined) headers.authorization = options.auth
    if (options?.body !== undefined) headers["content-type"] = "application/json"
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers,
      ...(options?.body !== undefined ? { body: JSON.stringify(options.body) } : {})
    })
    const text = await response.text()
    let json: unknown = undefined
    try {
      json = JSON.parse(text)
    } catch {
      // not JSON (metrics)
    }
    return { status: response.status, contentType: response.headers.get("content-type") ?? "", text, json }
  })
