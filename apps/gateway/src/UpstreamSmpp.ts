/**
 * The relay connector: messages routed to it are submitted to another SMSC with our own
 * `SmppClient` (one client per configured upstream, reconnecting on its schedule), and that
 * SMSC's receipts come back to our customers under our ids.
 *
 * - `submit` sends one submit_sm with the message's addresses, esm_class, data_coding and
 *   body (in message_payload when longer than 254 octets), always with registered_delivery 1
 *   so that the outcome can be reported. The upstream's message_id is answered as
 *   `upstreamId` (the store records it: the registration keeps `recordUpstreamId`); a
 *   non-OK submit_sm_resp is passed on as the refusal status (ESME_RTHROTTLED, …); no bound
 *   session in time, a timeout or a lost session → ESME_RSUBMITFAIL.
 * - A receipt from the upstream is translated to our id (the ids of messages submitted by
 *   this process are kept in memory until their receipt; others, e.g. after a restart, are
 *   looked up with `MessageStore.findByUpstreamId`) and handed to `Outcomes.finish`, which
 *   commits the state and queues the customer's receipt. Only then is the deliver_sm
 *   acknowledged: if that fails, the upstream is answered ESME_RX_T_APPN and sends it again.
 *   Intermediate notifications and non-final states are acknowledged and ignored.
 * - An MO from the upstream goes to the upstream's `moAccount` (queued with `Outcomes.mo`,
 *   acknowledged once queued); without one it is acknowledged and dropped, with a warning.
 *
 * Because receipts are handed over durably this way (and not through the connector's event
 * stream, which has no acknowledgement), `events` is empty; the connectors are therefore
 * built after `Outcomes` and added to the registry with `Connectors.register`
 * (`layerFromConfig`).
 *
 * @since 0.1.0
 */
import * as SmppClient from "@effect-smpp/runtime/SmppClient"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Connector, MoEvent, SubmitResult } from "./Connector.js"
import { Connectors } from "./Connectors.js"
import { GatewayConfig, type UpstreamSettings } from "./GatewayConfig.js"
import { type Message, MessageStore } from "./MessageStore.js"
import { Outcomes } from "./Outcomes.js"

const SHORT_MESSAGE_MAX = 254
const INTERMEDIATE = 0x20
const MAX_PENDING = 100_000
const RETRY_LOOKUP = Duration.millis(50)

/**
 * The submit_sm sent upstream for a stored message.
 *
 * @since 0.1.0
 * @category submit
 */
export const submitPdu = (message: Message): Pdu.SubmitSm =>
  Pdu.SubmitSm.make({
    serviceType: message.serviceType,
    sourceAddrTon: message.sourceAddrTon,
    sourceAddrNpi: message.sourceAddrNpi,
    sourceAddr: message.sourceAddr,
    destAddrTon: message.destAddrTon,
    destAddrNpi: message.destAddrNpi,
    destinationAddr: message.destinationAddr,
    esmClass: message.esmClass,
    protocolId: message.protocolId,
    priorityFlag: message.priorityFlag,
    // upstream receipts are how outcomes are known, whatever the customer asked for
    registeredDelivery: 1,
    dataCoding: message.dataCoding,
    ...(message.body.length <= SHORT_MESSAGE_MAX
      ? { shortMessage: message.body }
      : { shortMessage: new Uint8Array(0), tlvs: { messagePayload: message.body } })
  })

/**
 * The final state and error code a receipt reports, or none for an intermediate one (or one
 * whose state cannot be read).
 *
 * @since 0.1.0
 * @category receipts
 */
export const outcomeOf = (
  receipt: SmppClient.Receipt
): Option.Option<{ readonly state: number; readonly errorCode: number }> => {
  const state = receipt.state
  if (state === undefined || state === MessageState.ENROUTE) return Option.none()
  if ((receipt.pdu.esmClass & INTERMEDIATE) !== 0) return Option.none()
  const parsed = receipt.error === undefined ? Number.NaN : Number.parseInt(receipt.error, 10)
  const errorCode = Number.isFinite(parsed) ? parsed : receipt.networkErrorCode?.errorCode ?? 0
  return Option.some({ state, errorCode })
}

/**
 * Why an upstream receipt could not be taken (the upstream is answered ESME_RX_T_APPN and
 * sends it again).
 *
 * @since 0.1.0
 * @category errors
 */
export class UpstreamDeliveryError extends Data.TaggedError("UpstreamDeliveryError")<{
  readonly reason: "Store" | "Queue"
  readonly cause?: unknown
  readonly message: string
}> {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Overrides of the client's settings (tests: a faster reconnect schedule, …). */
  readonly client?: Partial<Omit<SmppClient.Config, "onDelivery">> | undefined
  /**
   * How long a receipt whose upstream id is not known yet is retried (its message's upstream
   * id may still be on its way to the store) before it is dropped; default 5 seconds.
   */
  readonly lookupTimeout?: Duration.DurationInput | undefined
}

/**
 * A connector relaying to one upstream: its client runs in the Scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  settings: UpstreamSettings,
  options?: Options
): Effect.Effect<Connector, never, Scope.Scope | MessageStore | Outcomes> =>
  Effect.gen(function*() {
    const store = yield* MessageStore
    const outcomes = yield* Outcomes
    const name = settings.name
    // upstream id → our id, for messages submitted by this process and not yet receipted
    const pending = new Map<string, string>()
    const lookupTimeout = options?.lookupTimeout ?? Duration.seconds(5)

    const ourId = (upstreamId: string): Effect.Effect<Option.Option<string>, UpstreamDeliveryError> => {
      const known = pending.get(upstreamId)
      if (known !== undefined) return Effect.succeedSome(known)
      const lookup = store.findByUpstreamId(name, upstreamId).pipe(
        Effect.mapError((cause) => new UpstreamDeliveryError({ reason: "Store", cause, message: cause.message })),
        Effect.map((found) =>
          // the id may be in memory by now, or its store write still queued
          Option.orElse(Option.map(found, (message) => message.id), () => Option.fromNullable(pending.get(upstreamId)))
        )
      )
      const attempt: Effect.Effect<Option.Option<string>, UpstreamDeliveryError> = Effect.flatMap(
        lookup,
        (id) => Option.isSome(id) ? Effect.succeed(id) : Effect.zipRight(Effect.sleep(RETRY_LOOKUP), attempt)
      )
      return Effect.timeoutTo(Effect.suspend(() => attempt), {
        duration: lookupTimeout,
        onTimeout: Option.none<string>,
        onSuccess: (id) => id
      })
    }

    const onReceipt = (receipt: SmppClient.Receipt): Effect.Effect<void, UpstreamDeliveryError> =>
      Option.match(outcomeOf(receipt), {
        onNone: () => Effect.void,
        onSome: (outcome) =>
          Effect.flatMap(ourId(receipt.messageId), (id) => {
            if (Option.isNone(id)) {
              return Effect.logWarning(`receipt for unknown upstream id ${receipt.messageId}: dropped`)
            }
            return Clock.currentTimeMillis.pipe(
              Effect.flatMap((now) =>
                outcomes.finish(id.value, { state: outcome.state, errorCode: outcome.errorCode, at: now })
              ),
              Effect.mapError((cause) => new UpstreamDeliveryError({ reason: "Store", cause, message: cause.message })),
              Effect.tap(() => Effect.sync(() => pending.delete(receipt.messageId)))
            )
          })
      })

    const onMo = (mo: SmppClient.MoMessage): Effect.Effect<void, UpstreamDeliveryError> => {
      if (settings.moAccount === undefined) {
        return Effect.logWarning(`MO from ${mo.source.addr} and no moAccount for upstream "${name}": dropped`)
      }
      const account = settings.moAccount
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const event: MoEvent = {
          _tag: "Mo",
          connector: name,
          account,
          serviceType: mo.pdu.serviceType,
          sourceAddrTon: mo.source.ton,
          sourceAddrNpi: mo.source.npi,
          sourceAddr: mo.source.addr,
          destAddrTon: mo.destination.ton,
          destAddrNpi: mo.destination.npi,
          destinationAddr: mo.destination.addr,
          // reassembled: no UDH left in the payload
          esmClass: mo.pdu.esmClass & ~0x40,
          dataCoding: mo.dataCoding,
          body: mo.payload,
          receivedAt: now
        }
        return Effect.mapError(
          outcomes.mo(event),
          (cause) => new UpstreamDeliveryError({ reason: "Queue", cause, message: cause.message })
        )
      })
    }

    const client = yield* SmppClient.make({
      host: settings.host,
      port: settings.port,
      tls: settings.tls,
      systemId: settings.systemId,
      password: settings.password,
      systemType: settings.systemType,
      bindKind: settings.bindKind,
      requestTimeout: settings.requestTimeout,
      session: { windowSize: settings.window },
      name: `upstream-${name}`,
      ...options?.client,
      onDelivery: (delivery) => delivery._tag === "Receipt" ? onReceipt(delivery) : onMo(delivery)
    }).pipe(Effect.orDie) // only an outbind listener can fail here, and none is configured

    const submit = (message: Message): Effect.Effect<SubmitResult> =>
      client.submitSm(submitPdu(message)).pipe(
        Effect.map((response): SubmitResult => {
          if (response.commandStatus !== CommandStatus.ESME_ROK) {
            return { accepted: false, status: response.commandStatus }
          }
          // without an id its receipt could never be matched
          if (response.messageId === undefined || response.messageId === "") {
            return { accepted: false, status: CommandStatus.ESME_RSUBMITFAIL }
          }
          // beyond the bound, receipts find the id in the store instead
          if (pending.size < MAX_PENDING) pending.set(response.messageId, message.id)
          return { accepted: true, upstreamId: response.messageId }
        }),
        Effect.catchAll((error) =>
          Effect.as(
            Effect.logWarning(`upstream "${name}" did not take message ${message.id}`, error),
            { accepted: false, status: CommandStatus.ESME_RSUBMITFAIL } as const
          )
        )
      )

    return { name, submit, events: Stream.empty }
  }).pipe(Effect.annotateLogs({ module: "UpstreamSmpp", upstream: settings.name }))

/**
 * Starts a connector for every upstream of `GatewayConfig` and registers it (its upstream
 * ids recorded, not resubmitted on restart: the upstream keeps them). Built after `Outcomes`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromConfig: Layer.Layer<never, never, GatewayConfig | Connectors | MessageStore | Outcomes> = Layer
  .scopedDiscard(
    Effect.gen(function*() {
      const config = yield* GatewayConfig
      const connectors = yield* Connectors
      for (const upstream of config.upstreams) {
        const connector = yield* make(upstream)
        yield* connectors.register({ connector, resubmitOnRestart: false, recordUpstreamId: true })
      }
    })
  )
