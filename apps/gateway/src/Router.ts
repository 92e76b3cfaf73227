/**
 * Which connector a message goes to: the route with the longest prefix of its destination
 * address wins; no match goes to the default connector (the simulator unless configured).
 * A leading `+` is ignored on both sides, so `+49…` and `49…` route alike.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { GatewayConfig, type RouteSettings } from "./GatewayConfig.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly routes: ReadonlyArray<RouteSettings>
  /** Default "simulator". */
  readonly defaultConnector?: string | undefined
}

const normalize = (address: string) => (address.startsWith("+") ? address.slice(1) : address)

/**
 * The routing function itself: `route(destination)` → connector name. Looks up each prefix
 * length from the longest route down, one Map lookup per length.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRoute = (options: Options): (destinationAddr: string) => string => {
  const byPrefix = new Map<string, string>()
  // a later route with the same prefix replaces an earlier one, as a config file reads
  for (const route of options.routes) byPrefix.set(normalize(route.prefix), route.connector)
  const lengths = [...new Set([...byPrefix.keys()].map((prefix) => prefix.length))].sort((a, b) => b - a)
  const fallback = options.defaultConnector ?? "simulator"
  return (destinationAddr) => {
    const destination = normalize(destinationAddr)
    for (const length of lengths) {
      if (length > destination.length) continue
      const connector = byPrefix.get(destination.slice(0, length))
      if (connector !== undefined) return connector
    }
    return fallback
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options) => {
  const route = makeRoute(options)
  return {
    /** The connector for a destination address. */
    route,
    /** The connector used when no route matches. */
    defaultConnector: options.defaultConnector ?? "simulator",
    /** The configured routes. */
    routes: options.routes,
    /** Every connector name the routes mention, the default included. */
    connectors: (): ReadonlyArray<string> => [
      ...new Set([...options.routes.map((r) => r.connector), options.defaultConnector ?? "simulator"])
    ]
  }
}

/**
 * The router as a service; `Default` reads `routes` and `defaultConnector` from `GatewayConfig`.
 *
 * @since 0.1.0
 * @category services
 */
export class Router extends Effect.Service<Router>()("@effect-smpp/gateway/Router", {
  effect: Effect.map(GatewayConfig, (config) =>
    make({ routes: config.routes, defaultConnector: config.defaultConnector })),
  dependencies: [GatewayConfig.Default]
}) {}

/**
 * The router with routes in hand.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Router> => Layer.succeed(Router, Router.make(make(options)))
