/**
 * `smpp serve [--config FILE]`: runs the gateway until interrupted (SIGINT / SIGTERM close
 * it gracefully). Without `--config`, the file named by `GATEWAY_CONFIG` if set, else the
 * embedded defaults: SMPP on 0.0.0.0:2775, SQLite under ./data, the demo account.
 *
 * Prints the SMPP address it listens on (`SMPP listening on HOST:PORT`, the real port when
 * 0 was asked) and, when configured, the demo account.
 *
 * @since 0.1.0
 */
import * as SmppServer from "@effect-smpp/runtime/SmppServer"
import { formatAddress } from "@effect-smpp/runtime/Transport"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Database from "../Database.js"
import * as Gateway from "../Gateway.js"
import { DEMO_SYSTEM_ID, GatewayConfig } from "../GatewayConfig.js"
import * as Password from "../Password.js"

/**
 * What `serve` prints once the gateway is up.
 *
 * @since 0.1.0
 * @category layers
 */
export const banner = Layer.effectDiscard(
  Effect.gen(function*() {
    const server = yield* SmppServer.SmppServer
    const config = yield* GatewayConfig
    if (server.address !== undefined) yield* Console.log(`SMPP listening on ${formatAddress(server.address)}`)
    const demo = config.accounts.find((account) => account.systemId === DEMO_SYSTEM_ID)
    if (demo !== undefined && !Password.isHash(demo.password)) {
      yield* Console.log(`demo account: system_id "${DEMO_SYSTEM_ID}", password "${demo.password}"`)
    }
    yield* Console.log(
      `message store: ${
        config.store.url === undefined
          ? config.store.filename
          : `PostgreSQL at ${Database.describeUrl(Redacted.value(config.store.url))}`
      }`
    )
  })
)

const config = Options.file("config").pipe(
  Options.withDescription("the gateway's JSON configuration file (default: GATEWAY_CONFIG, else built-in defaults)"),
  Options.optional
)

/**
 * Runs the gateway with `configPath`'s settings (or the environment's) until interrupted.
 *
 * @since 0.1.0
 * @category running
 */
export const serve = (configPath: Option.Option<string>) => {
  const gateway = Option.match(configPath, { onNone: () => Gateway.layer, onSome: Gateway.layerFromFile })
  // failures are printed here (a bad config file, a port in use); Cli.run prints defects
  return Layer.launch(Layer.provide(banner, gateway)).pipe(
    Effect.tapError((error) => Console.error(`smpp serve: ${error.message}`))
  )
}

/**
 * `smpp serve`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("serve", { config }, ({ config }) => serve(config)).pipe(
  Command.withDescription("run the gateway: SMPP server, simulator, message store (Ctrl-C to stop)")
)
