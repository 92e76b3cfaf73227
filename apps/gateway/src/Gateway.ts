/**
 * The composition root: the whole gateway as Layers.
 *
 * `services` is everything built from a `GatewayConfig`: the database (a SQLite file by
 * default, PostgreSQL when `store.url` is set; migrated), the message store and delivery
 * queue, accounts, router, simulator and the connector registry (plus an `UpstreamSmpp`
 * relay per configured upstream), the receipt/MO pump (`Outcomes`), the submit pipeline
 * (`Submissions`), the SMPP server (`Smsc`), the `Deliverer` (data_sm for the accounts
 * configured `deliverWith: "data_sm"`) and the HTTP API. `layer` adds the
 * configuration from the environment (`GATEWAY_CONFIG`, `SMPP_PORT`, …), `layerFromFile`
 * from a JSON file, `layerFromSettings` from settings in hand.
 *
 * Shutdown runs in reverse: deliveries stop, SMPP sessions unbind, the dispatcher and the
 * pump stop, the stores commit what they hold, the database closes.
 *
 * @example
 * ```ts
 * Layer.launch(Gateway.layer).pipe(NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
import type * as SmppServer from "@effect-smpp/runtime/SmppServer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Accounts } from "./Accounts.js"
import { Connectors } from "./Connectors.js"
import * as Database from "./Database.js"
import * as Deliverer from "./Deliverer.js"
import { DeliveryQueue } from "./DeliveryQueue.js"
import * as GatewayConfig from "./GatewayConfig.js"
import { MessageStore } from "./MessageStore.js"
import { Migrations } from "./Migrations.js"
import * as HttpServer from "./http/HttpServer.js"
import { Outcomes } from "./Outcomes.js"
import { Router } from "./Router.js"
import { Simulator } from "./Simulator.js"
import * as Smsc from "./Smsc.js"
import { Submissions } from "./Submissions.js"
import * as UpstreamSmpp from "./UpstreamSmpp.js"

const stores = Layer.mergeAll(MessageStore.DefaultWithoutDependencies, DeliveryQueue.DefaultWithoutDependencies).pipe(
  Layer.provide(Migrations.Default)
)

const base = Layer.mergeAll(
  stores,
  Accounts.DefaultWithoutDependencies,
  Router.DefaultWithoutDependencies,
  Simulator.DefaultWithoutDependencies
)

// The HTTP API needs Submissions, MessageStore, Accounts, Outcomes and the SmppServer: `core`.
const http = HttpServer.layer

const core = Smsc.layer.pipe(
  Layer.provideMerge(Submissions.Default),
  // relay connectors: registered after Outcomes (they hand receipts to it), before Submissions
  Layer.provideMerge(UpstreamSmpp.layerFromConfig),
  Layer.provideMerge(Outcomes.Default),
  Layer.provideMerge(Connectors.Default),
  Layer.provideMerge(base),
  Layer.provideMerge(Database.layerFromConfig)
)

/**
 * The `Deliverer` of `GatewayConfig`: data_sm for the accounts with `deliverWith: "data_sm"`.
 *
 * @since 0.1.0
 * @category layers
 */
export const deliverer: Layer.Layer<
  Deliverer.Deliverer,
  never,
  GatewayConfig.GatewayConfig | SmppServer.SmppServer | DeliveryQueue | Accounts
> = Layer.unwrapEffect(
  Effect.map(GatewayConfig.GatewayConfig, (config) =>
    Deliverer.layer({
      dataSm: config.accounts.filter((account) => account.deliverWith === "data_sm").map((account) => account.systemId),
      checkInterval: config.delivery.checkInterval
    }))
)

/**
 * Every service of the gateway, from the `GatewayConfig` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const services = Layer.mergeAll(deliverer, http).pipe(Layer.provideMerge(core))

/**
 * The gateway configured from the environment (`GATEWAY_CONFIG` names a JSON file;
 * `SMPP_PORT`, `HTTP_PORT`, `ADMIN_TOKEN`, `GATEWAY_DB`, `DATABASE_URL`, … override it);
 * embedded defaults otherwise.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = services.pipe(Layer.provideMerge(GatewayConfig.GatewayConfig.Default))

/**
 * The gateway configured from a JSON file (then the environment).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromFile = (path: string) => services.pipe(Layer.provideMerge(GatewayConfig.layerFromFile(path)))

/**
 * The gateway from settings in hand (tests, embedding): no file, no environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromSettings = (settings: GatewayConfig.Settings) =>
  services.pipe(Layer.provideMerge(GatewayConfig.layer(settings)))
