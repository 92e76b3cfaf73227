/**
 * The simulator connector: an SMSC without a network behind it, for demos and QA.
 *
 * On `submit` it may refuse (throughput beyond `maxThroughput` → ESME_RTHROTTLED; a
 * configured share of submits → their `status`), else accepts and picks the message's
 * outcome from the rules (by destination prefix and percentage; default DELIVRD), to be
 * reported `delay` later — counted from the schedule_delivery_time when that is later —
 * or EXPIRED at the end of the validity period when that comes first. A share of accepted
 * submits can be marked `dropResponse`. MO messages come from the echo rule (a message to
 * a matching destination comes back from it) and from scripted MOs, or `injectMo`.
 *
 * All timing is on the `Clock` (one timer fiber for all pending outcomes), so `TestClock`
 * drives it; random draws come from `Random`. Outcomes pending at shutdown are not kept. An
 * outcome carries the message as submitted (`Outcomes` builds the receipt from it). A submit
 * with nothing to draw (no submit errors, dropped responses or shares below 100%) runs
 * without a generator, and `unsafeSubmit` answers it from plain code (no effect at all).
 *
 * @since 0.1.0
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Text from "@effect-smpp/schema/Text"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import type { Connector, ConnectorEvent, MoEvent, SubmitResult } from "./Connector.js"
import {
  GatewayConfig,
  type Outcome,
  type OutcomeRule,
  type ScriptedMo,
  type SimulatorSettings,
  type SubmitErrorRule
} from "./GatewayConfig.js"
import * as TimerQueue from "./internal/timerQueue.js"
import * as TokenBucket from "./internal/tokenBucket.js"
import type { Message } from "./MessageStore.js"

/**
 * The message_state of each outcome word.
 *
 * @since 0.1.0
 * @category models
 */
export const stateOfOutcome: Record<Outcome, number> = {
  DELIVRD: MessageState.DELIVERED,
  UNDELIV: MessageState.UNDELIVERABLE,
  EXPIRED: MessageState.EXPIRED,
  REJECTD: MessageState.REJECTED
}

/**
 * What rules share: a destination prefix (any when absent) and a share in percent.
 *
 * @since 0.1.0
 * @category rules
 */
export interface RuleShare {
  readonly prefix?: string | undefined
  readonly percent: number
}

const matches = (prefix: string | undefined, destination: string) =>
  prefix === undefined || destination.startsWith(prefix)

/**
 * The rule a destination gets for a draw in [0, 100): the shares of the rules matching
 * the destination are laid end to end in order, and the draw falls in one of them (or
 * past them all: `undefined`, the default outcome).
 *
 * @since 0.1.0
 * @category rules
 */
export const pickRule = <R extends RuleShare>(
  rules: ReadonlyArray<R>,
  destination: string,
  draw: number
): R | undefined => {
  let upTo = 0
  for (const rule of rules) {
    if (!matches(rule.prefix, destination)) continue
    upTo += rule.percent
    if (draw < upTo) return rule
  }
  return undefined
}

// whether the first matching rule leaves the choice to chance (else no draw is needed)
const needsDraw = (rules: ReadonlyArray<RuleShare>, destination: string) => {
  for (const rule of rules) {
    if (!matches(rule.prefix, destination)) continue
    return rule.percent < 100
  }
  return false
}

const draw = (rules: ReadonlyArray<RuleShare>, destination: string) =>
  needsDraw(rules, destination) ? Random.nextRange(0, 100) : Effect.succeed(0)

/**
 * An MO to inject. `text` is encoded in `dataCoding` (default 0, GSM 03.38; UCS-2 when it
 * does not fit), unless `body` gives the octets.
 *
 * @since 0.1.0
 * @category models
 */
export interface MoInput {
  readonly account: string
  readonly sourceAddr: string
  readonly destinationAddr: string
  readonly text?: string | undefined
  readonly body?: Uint8Array | undefined
  readonly dataCoding?: number | undefined
  readonly sourceAddrTon?: number | undefined
  readonly sourceAddrNpi?: number | undefined
  readonly destAddrTon?: number | undefined
  readonly destAddrNpi?: number | undefined
}

const encodeText = (text: string, dataCoding: number): { body: Uint8Array; dataCoding: number } =>
  Either.match(Text.encode(text, dataCoding), {
    onLeft: () => ({ body: Text.encodeUcs2(text), dataCoding: 8 }),
    onRight: (body) => ({ body, dataCoding })
  })

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The connector name. Default "simulator". */
  readonly name?: string | undefined
  /** Events kept for the consumer before the simulator waits for it. Default 65536. */
  readonly eventCapacity?: number | undefined
}

/**
 * Builds the simulator; its timers and scripted MOs run in the Scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (settings: SimulatorSettings, options?: Options) =>
  Effect.gen(function*() {
    const name = options?.name ?? "simulator"
    const events = yield* Queue.bounded<ConnectorEvent>(options?.eventCapacity ?? 65536)
    const timers = yield* TimerQueue.make<ConnectorEvent>((due) => Queue.offerAll(events, due))
    const bucket = settings.maxThroughput === undefined
      ? TokenBucket.unlimited
      : TokenBucket.make(settings.maxThroughput, Math.max(1, Math.ceil(settings.maxThroughput)))
    const defaultDelay = Duration.toMillis(settings.defaultDelay)
    // upstream ids: a per-start prefix, so ids stay unique across restarts
    const started = yield* Clock.currentTimeMillis
    const idPrefix = started.toString(36)
    let counter = 0

    const mo = (input: MoInput, at: number): MoEvent => {
      const encoded = input.body !== undefined
        ? { body: input.body, dataCoding: input.dataCoding ?? 0 }
        : encodeText(input.text ?? "", input.dataCoding ?? 0)
      return {
        _tag: "Mo",
        connector: name,
        account: input.account,
        serviceType: "",
        sourceAddrTon: input.sourceAddrTon ?? 1,
        sourceAddrNpi: input.sourceAddrNpi ?? 1,
        sourceAddr: input.sourceAddr,
        destAddrTon: input.destAddrTon ?? 0,
        destAddrNpi: input.destAddrNpi ?? 0,
        destinationAddr: input.destinationAddr,
        esmClass: 0,
        dataCoding: encoded.dataCoding,
        body: encoded.body,
        receivedAt: at
      }
    }

    const throttled: SubmitResult = { accepted: false, status: CommandStatus.ESME_RTHROTTLED }

    // an accepted message: its outcome (and echo) on the timers; its upstream id
    const acceptNow = (message: Message, now: number, ruleDraw: number): string => {
      const destination = message.destinationAddr
      const upstreamId = `${idPrefix}-${(counter++).toString(36)}`
      const rule: OutcomeRule | undefined = pickRule(settings.rules, destination, ruleDraw)
      const outcome = rule?.outcome ?? settings.defaultOutcome
      const delay = rule?.delay === undefined ? defaultDelay : Duration.toMillis(rule.delay)
      const start = Math.max(now, message.scheduleDeliveryTime ?? now)
      let doneAt = start + delay
      let state = stateOfOutcome[outcome]
      let errorCode = rule?.errorCode ?? (outcome === "DELIVRD" ? 0 : 1)
      if (message.validityPeriod !== null && message.validityPeriod < doneAt) {
        doneAt = Math.max(now, message.validityPeriod)
        state = MessageState.EXPIRED
        errorCode = rule?.errorCode ?? 1
      }
      timers.unsafeAdd(doneAt, {
        _tag: "Outcome",
        connector: name,
        messageId: message.id,
        upstreamId,
        state,
        errorCode,
        doneAt,
        message
      })
      if (settings.echo === undefined || !destination.startsWith(settings.echo.prefix)) return upstreamId
      const at = start + Duration.toMillis(settings.echo.delay)
      timers.unsafeAdd(
        at,
        mo({
          account: message.account,
          sourceAddr: message.destinationAddr,
          sourceAddrTon: message.destAddrTon,
          sourceAddrNpi: message.destAddrNpi,
          destinationAddr: message.sourceAddr,
          destAddrTon: message.sourceAddrTon,
          destAddrNpi: message.sourceAddrNpi,
          body: message.body,
          dataCoding: message.dataCoding
        }, at)
      )
      return upstreamId
    }
    const accept = (message: Message, now: number, ruleDraw: number): Effect.Effect<string> =>
      Effect.sync(() => acceptNow(message, now, ruleDraw))

    // nothing to draw (no submit errors, dropped responses or shares below 100%)
    const drawless = (destination: string) =>
      settings.submitErrors.length === 0 && settings.dropResponsePercent <= 0 && !needsDraw(settings.rules, destination)

    // the throughput, then the draws (submit errors, outcome rules, dropped responses, in
    // that order); with nothing to draw (the usual settings) no generator runs per message
    const submit = (message: Message): Effect.Effect<SubmitResult> =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        if (!bucket.unsafeTake(now)) return Effect.succeed(throttled)
        const destination = message.destinationAddr
        if (drawless(destination)) {
          return Effect.map(accept(message, now, 0), (upstreamId): SubmitResult => ({ accepted: true, upstreamId }))
        }
        return Effect.gen(function*() {
          if (settings.submitErrors.length > 0) {
            const rule: SubmitErrorRule | undefined = pickRule(
              settings.submitErrors,
              destination,
              yield* draw(settings.submitErrors, destination)
            )
            if (rule?.status !== undefined) return { accepted: false, status: rule.status } as const
          }
          const upstreamId = yield* accept(message, now, yield* draw(settings.rules, destination))
          const dropResponse = settings.dropResponsePercent > 0 &&
            (yield* Random.nextRange(0, 100)) < settings.dropResponsePercent
          return dropResponse
            ? { accepted: true, upstreamId, dropResponse } as const
            : { accepted: true, upstreamId } as const
        })
      })

    // `submit` without an effect when there is nothing to draw (draws come from `Random`)
    const clock = yield* Effect.clock
    const unsafeSubmit = (message: Message): SubmitResult | undefined => {
      if (!drawless(message.destinationAddr)) return undefined
      const now = clock.unsafeCurrentTimeMillis()
      if (!bucket.unsafeTake(now)) return throttled
      return { accepted: true, upstreamId: acceptNow(message, now, 0) }
    }

    const injectMo = (input: MoInput, delay?: Duration.DurationInput): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const at = now + (delay === undefined ? 0 : Duration.toMillis(delay))
        return timers.add(at, mo(input, at))
      })

    const runScript = (script: ScriptedMo) => {
      const once = injectMo(script)
      const after = Effect.zipRight(Effect.sleep(script.after), once)
      return script.every === undefined
        ? after
        : Effect.zipRight(after, Effect.forever(Effect.zipRight(Effect.sleep(script.every), once)))
    }
    for (const script of settings.mo) yield* Effect.forkScoped(runScript(script))

    const connector: Connector = { name, submit, unsafeSubmit, events: Stream.fromQueue(events) }
    return {
      ...connector,
      /** Queues an MO (after `delay`, default at once). */
      injectMo,
      /** Outcomes and MOs waiting for their time. */
      pending: (): number => timers.size()
    }
  })

/**
 * @since 0.1.0
 * @category models
 */
export type Service = Effect.Effect.Success<ReturnType<typeof make>>

/**
 * The simulator as a service; `Default` reads `simulator` from `GatewayConfig`.
 *
 * @since 0.1.0
 * @category services
 */
export class Simulator extends Effect.Service<Simulator>()("@effect-smpp/gateway/Simulator", {
  scoped: Effect.flatMap(GatewayConfig, (config) => make(config.simulator)),
  dependencies: [GatewayConfig.Default]
}) {}

/**
 * The simulator with settings in hand.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (settings: SimulatorSettings, options?: Options): Layer.Layer<Simulator> =>
  Layer.scoped(Simulator, Effect.map(make(settings, options), Simulator.make))
