/**
 * Whether a failed request is sent again, and when. Two policies:
 * - client requests (submit_sm and the other ESME requests): retried on response timeout and
 *   on the SMSC's "slow down" answers, ESME_RTHROTTLED and ESME_RMSGQFUL; any other status
 *   is the final answer. Bounded (5 attempts by default).
 * - server deliveries (deliver_sm / data_sm toward an ESME): a receipt or MO must not be lost,
 *   so everything is retried, without bound, except the ESME's permanent refusals
 *   ESME_RX_P_APPN and ESME_RX_R_APPN.
 *
 * Delays: exponential from 1 s, factor 2, capped at 60 s, jittered by ±20% (and capped again,
 * so no delay exceeds the cap): `min(cap, round(min(cap, base · factor^n) · U(0.8, 1.2)))` ms.
 *
 * @since 0.1.0
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"

/**
 * How a request ended without success: the command_status of its response (or of the
 * generic_nack answering it), or no response in time.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = number | "timeout"

/**
 * @since 0.1.0
 * @category models
 */
export type Verdict = "retry" | "final"

/**
 * The verdict on a client request. ESME_ROK is "final": there is nothing to retry.
 *
 * @since 0.1.0
 * @category utils
 */
export const classifyClient = (outcome: Outcome): Verdict =>
  outcome === "timeout" || outcome === CommandStatus.ESME_RTHROTTLED || outcome === CommandStatus.ESME_RMSGQFUL
    ? "retry"
    : "final"

/**
 * The verdict on a delivery toward an ESME. ESME_ROK is "final": the delivery is done.
 *
 * @since 0.1.0
 * @category utils
 */
export const classifyDelivery = (outcome: Outcome): Verdict =>
  outcome === "timeout"
    ? "retry"
    : outcome === CommandStatus.ESME_ROK || outcome === CommandStatus.ESME_RX_P_APPN ||
        outcome === CommandStatus.ESME_RX_R_APPN
    ? "final"
    : "retry"

/**
 * @since 0.1.0
 * @category models
 */
export interface ScheduleOptions {
  /** The first delay. Default 1 second. */
  readonly base?: Duration.DurationInput | undefined
  /** Growth of each delay over the previous one. Default 2. */
  readonly factor?: number | undefined
  /** The longest delay. Default 60 seconds. */
  readonly cap?: Duration.DurationInput | undefined
  /**
   * Tries in all, the first included: the schedule recurs `attempts - 1` times. Default 5
   * for client requests, unbounded for deliveries.
   */
  readonly attempts?: number | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_CLIENT_ATTEMPTS = 5

/**
 * The jittered, capped exponential backoff, unbounded. Outputs the delay it waits.
 *
 * @since 0.1.0
 * @category schedules
 */
export const backoff = (options?: ScheduleOptions): Schedule.Schedule<Duration.Duration> => {
  const cap = Duration.toMillis(options?.cap ?? "60 seconds")
  // Capping before the jitter keeps the delay finite however long it grows; after, keeps it
  // under the cap (in whole milliseconds, as the Clock counts).
  return Schedule.exponential(options?.base ?? "1 second", options?.factor ?? 2).pipe(
    Schedule.modifyDelay((_, d) => Math.min(Duration.toMillis(d), cap)),
    Schedule.jittered,
    Schedule.modifyDelay((_, d) => Math.min(Math.round(Duration.toMillis(d)), cap)),
    Schedule.delays
  )
}

const bounded = (
  schedule: Schedule.Schedule<Duration.Duration>,
  attempts: number
): Schedule.Schedule<Duration.Duration> =>
  schedule.pipe(
    Schedule.intersect(Schedule.recurs(Math.max(0, Math.floor(attempts) - 1))),
    Schedule.map(([delay]) => delay)
  )

/**
 * The retry schedule of client requests: `backoff`, 5 attempts in all unless told otherwise.
 *
 * @since 0.1.0
 * @category schedules
 */
export const clientSchedule = (options?: ScheduleOptions): Schedule.Schedule<Duration.Duration> =>
  bounded(backoff(options), options?.attempts ?? DEFAULT_CLIENT_ATTEMPTS)

/**
 * The retry schedule of deliveries toward an ESME: `backoff`, unbounded unless `attempts` is given.
 *
 * @since 0.1.0
 * @category schedules
 */
export const deliverySchedule = (options?: ScheduleOptions): Schedule.Schedule<Duration.Duration> =>
  options?.attempts === undefined ? backoff(options) : bounded(backoff(options), options.attempts)

/**
 * `clientSchedule` that stops at the first outcome `classifyClient` calls final: for
 * `Effect.retry` on an effect failing with an `Outcome`.
 *
 * @since 0.1.0
 * @category schedules
 */
export const clientPolicy = (options?: ScheduleOptions): Schedule.Schedule<Duration.Duration, Outcome> =>
  Schedule.whileInput(clientSchedule(options), (outcome: Outcome) => classifyClient(outcome) === "retry")

/**
 * `deliverySchedule` that stops at the first outcome `classifyDelivery` calls final.
 *
 * @since 0.1.0
 * @category schedules
 */
export const deliveryPolicy = (options?: ScheduleOptions): Schedule.Schedule<Duration.Duration, Outcome> =>
  Schedule.whileInput(deliverySchedule(options), (outcome: Outcome) => classifyDelivery(outcome) === "retry")
