/**
 * The HTTP API served: `GatewayApi` with its handlers on a Node HTTP server, the OpenAPI
 * document at GET /openapi.json and Swagger UI at GET /docs.
 *
 * `layer` listens on `GatewayConfig`'s `http` address with its admin token (`http.adminToken`,
 * env `ADMIN_TOKEN`; unset: the admin-only endpoint GET /sessions refuses every request;
 * POST /mo stays open to each account for itself). `layerWith` takes both explicitly.
 * `layerApi` is the API without a server (it needs an `HttpHandlers.AdminToken`), for
 * `HttpApiBuilder.toWebHandler` or another server.
 *
 * The layers need the gateway's services: `Accounts`, `Submissions`, `MessageStore`,
 * `DeliveryQueue`, `Outcomes` and the runtime's `SmppServer`; they provide the platform's
 * `HttpServer` (its `address` tells the port actually bound).
 *
 * @example
 * ```ts
 * const services = Layer.mergeAll(Deliverer.Default, HttpServer.layer).pipe(Layer.provideMerge(core))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiSwagger from "@effect/platform/HttpApiSwagger"
import * as PlatformHttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as SmppServer from "@effect-smpp/runtime/SmppServer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import { createServer } from "node:http"
import type { Accounts } from "../Accounts.js"
import type { DeliveryQueue } from "../DeliveryQueue.js"
import { GatewayConfig } from "../GatewayConfig.js"
import type { MessageStore } from "../MessageStore.js"
import type { Outcomes } from "../Outcomes.js"
import type { Submissions } from "../Submissions.js"
import { GatewayApi } from "./HttpApi.js"
import { adminToken, HandlersLive } from "./HttpHandlers.js"

/**
 * What the HTTP API needs from the gateway.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements =
  | Accounts
  | Submissions
  | MessageStore
  | DeliveryQueue
  | Outcomes
  | SmppServer.SmppServer

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default `0.0.0.0`. */
  readonly host?: string | undefined
  /** Default 8080; 0 for any free port. */
  readonly port?: number | undefined
  /** The admin token; none (the default) disables the admin-only endpoints. */
  readonly adminToken?: string | Redacted.Redacted<string> | undefined
}

/**
 * The API with its handlers and security, without a server.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerApi = HttpApiBuilder.api(GatewayApi).pipe(Layer.provide(HandlersLive))

const serve = (host: string, port: number) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
    Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
    Layer.provide(layerApi),
    PlatformHttpServer.withLogAddress,
    Layer.merge(Layer.effect(PlatformHttpServer.HttpServer, PlatformHttpServer.HttpServer)),
    Layer.provide(NodeHttpServer.layer(() => createServer(), { host, port }))
  )

/**
 * The HTTP API on `options`' address, with `options.adminToken`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options?: Options
): Layer.Layer<PlatformHttpServer.HttpServer, ServeError, Requirements> =>
  serve(options?.host ?? "0.0.0.0", options?.port ?? 8080).pipe(
    Layer.provide(adminToken(options?.adminToken))
  )

/**
 * The HTTP API on `GatewayConfig`'s `http` address, with its admin token.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  PlatformHttpServer.HttpServer,
  ServeError,
  Requirements | GatewayConfig
> = Layer.unwrapEffect(
  Effect.map(GatewayConfig, ({ http }) => layerWith({ host: http.host, port: http.port, adminToken: http.adminToken }))
)
