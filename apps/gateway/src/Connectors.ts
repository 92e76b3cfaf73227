/**
 * The connectors the gateway can route to, by name: the simulator by default, an upstream
 * SMPP relay when one is configured. `Submissions` looks the router's choice up here;
 * `Outcomes` consumes the events of every connector registered, also of those registered
 * later (`registered` streams them).
 *
 * A registration says how the gateway treats the connector after a restart:
 * `resubmitOnRestart` for a connector that keeps nothing across a restart (the simulator:
 * its pending outcomes are lost, so messages still on their way are submitted to it again),
 * and `recordUpstreamId` for one whose ids must be kept to translate its receipts (a relay).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import type { Connector } from "./Connector.js"
import { Simulator } from "./Simulator.js"

/**
 * A connector and how to treat it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Registration {
  readonly connector: Connector
  /** Submit its messages still ENROUTE again when the gateway starts. Default false. */
  readonly resubmitOnRestart?: boolean | undefined
  /** Store the connector's id of each message (`MessageStore.markSubmitted`). Default true. */
  readonly recordUpstreamId?: boolean | undefined
}

/**
 * Builds a registry holding `registrations`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (registrations: ReadonlyArray<Registration> = []) =>
  Effect.gen(function*() {
    const byName = new Map<string, Registration>()
    for (const registration of registrations) byName.set(registration.connector.name, registration)
    const added = yield* PubSub.unbounded<Registration>()

    const register = (registration: Registration): Effect.Effect<void> =>
      Effect.suspend(() => {
        byName.set(registration.connector.name, registration)
        return PubSub.publish(added, registration)
      })

    // subscribed before the snapshot is read, so none registered in between is missed
    const registered: Stream.Stream<Registration> = Stream.unwrapScoped(
      Effect.map(PubSub.subscribe(added), (subscription) => {
        const seen = new Set<Registration>(byName.values())
        return Stream.concat(
          Stream.fromIterable([...seen]),
          Stream.filter(Stream.fromQueue(subscription), (registration) => {
            if (seen.has(registration)) return false
            seen.add(registration)
            return true
          })
        )
      })
    )

    return {
      /** Adds (or replaces, by name) a connector. */
      register,
      /** The connector of that name. */
      get: (name: string): Option.Option<Registration> => Option.fromNullable(byName.get(name)),
      /** Every connector registered now. */
      all: (): ReadonlyArray<Registration> => [...byName.values()],
      /** Every connector registered now, then each one registered later. */
      registered
    }
  })

/**
 * @since 0.1.0
 * @category models
 */
export type Service = Effect.Effect.Success<ReturnType<typeof make>>

/**
 * The registry as a service; `Default` holds the `Simulator` (resubmitted on restart, its
 * ids not recorded: nothing needs them).
 *
 * @since 0.1.0
 * @category services
 */
export class Connectors extends Effect.Service<Connectors>()("@effect-smpp/gateway/Connectors", {
  effect: Effect.flatMap(
    Simulator,
    (simulator) => make([{ connector: simulator, resubmitOnRestart: true, recordUpstreamId: false }])
  )
}) {}

/**
 * The registry with connectors in hand (tests, embedding).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (registrations: ReadonlyArray<Registration>): Layer.Layer<Connectors> =>
  Layer.effect(Connectors, Effect.map(make(registrations), Connectors.make))
