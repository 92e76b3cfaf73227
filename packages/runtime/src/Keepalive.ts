/**
 * The heartbeat and inactivity timers as pure functions of plain millisecond timestamps
 * (smppex style): the session feeds in what happened and asks `tick` what to do now. Time
 * comes from the session's `Clock`, so `TestClock` drives it.
 *
 * - enquire_link_timer: after `interval` without any PDU received, send enquire_link.
 * - response: an enquire_link unanswered for `responseTimeout` is a miss, and the next one is
 *   sent at once; `maxMissed` misses in a row and the peer is "dead".
 * - inactivity_timer (off by default): no activity for `inactivity` → "inactive". Activity is
 *   any PDU received except enquire_link traffic, as the specification means "between
 *   transactions": a session alive only by its heartbeats is still inactive.
 *
 * Any PDU received proves the peer alive: like an enquire_link_resp, it clears the miss count.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Idle time (nothing received) before an enquire_link is sent. Default 30 seconds. */
  readonly interval?: Duration.DurationInput | undefined
  /** How long an enquire_link may wait for its response. Default: `interval`. */
  readonly responseTimeout?: Duration.DurationInput | undefined
  /** Unanswered enquire_links in a row before the peer is dead. Default 3. */
  readonly maxMissed?: number | undefined
  /** Time without activity before the session is inactive. Default: off. */
  readonly inactivity?: Duration.DurationInput | undefined
}

/**
 * The options resolved to milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly interval: number
  readonly responseTimeout: number
  readonly maxMissed: number
  readonly inactivity: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface State {
  readonly config: Config
  /** When the last PDU of any kind was received. */
  readonly lastReceived: number
  /** When the last PDU other than enquire_link / enquire_link_resp was received. */
  readonly lastActivity: number
  /** When our unanswered enquire_link was sent, if one is. */
  readonly pendingSince: number | undefined
  /** enquire_links in a row that went unanswered. */
  readonly missed: number
}

/**
 * What the session should do now: nothing, send an enquire_link (then report it with
 * `onEnquireLinkSent`), or close the session because the peer is dead or inactive.
 *
 * @since 0.1.0
 * @category models
 */
export type Action = "none" | "send_enquire_link" | "dead" | "inactive"

/**
 * @since 0.1.0
 * @category models
 */
export interface TickResult {
  readonly state: State
  readonly action: Action
}

/**
 * The kind of PDU received: `"keepalive"` for enquire_link and enquire_link_resp, which keep
 * the link alive but are not activity; `"activity"` for all others.
 *
 * @since 0.1.0
 * @category models
 */
export type Traffic = "activity" | "keepalive"

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_INTERVAL_MILLIS = 30_000

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_MISSED = 3

/**
 * Resolves the options to milliseconds, with the defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const config = (options?: Options): Config => {
  const interval = options?.interval === undefined ? DEFAULT_INTERVAL_MILLIS : Duration.toMillis(options.interval)
  return {
    interval,
    responseTimeout: options?.responseTimeout === undefined ? interval : Duration.toMillis(options.responseTimeout),
    maxMissed: Math.max(1, Math.floor(options?.maxMissed ?? DEFAULT_MAX_MISSED)),
    inactivity: options?.inactivity === undefined ? undefined : Duration.toMillis(options.inactivity)
  }
}

/**
 * The state of a session that starts at `now` (counted as traffic and activity). One
 * `Config` serves every session of a server.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Config, now: number): State => ({
  config,
  lastReceived: now,
  lastActivity: now,
  pendingSince: undefined,
  missed: 0
})

/**
 * A PDU (or a batch of them) was received at `now`: the idle clock restarts and the peer is
 * known alive. Call it once per batch read, with the batch's time, not per PDU.
 *
 * @since 0.1.0
 * @category utils
 */
export const onTraffic = (state: State, now: number, traffic: Traffic = "activity"): State => ({
  config: state.config,
  lastReceived: now,
  lastActivity: traffic === "activity" ? now : state.lastActivity,
  pendingSince: undefined,
  missed: 0
})

/**
 * Our enquire_link went out at `now`; its response is awaited from then.
 *
 * @since 0.1.0
 * @category utils
 */
export const onEnquireLinkSent = (state: State, now: number): State => ({ ...state, pendingSince: now })

/**
 * The enquire_link_resp arrived at `now`: the miss count starts again from zero.
 *
 * @since 0.1.0
 * @category utils
 */
export const onEnquireLinkResp = (state: State, now: number): State => onTraffic(state, now, "keepalive")

/**
 * What to do at `now`. Asking for an enquire_link also marks one as awaited from `now`, so
 * the next tick does not ask again; `onEnquireLinkSent` then records the actual send time.
 *
 * @since 0.1.0
 * @category utils
 */
export const tick = (state: State, now: number): TickResult => {
  const c = state.config
  if (state.missed >= c.maxMissed) return { state, action: "dead" }
  let next = state
  if (state.pendingSince !== undefined && now - state.pendingSince >= c.responseTimeout) {
    const missed = state.missed + 1
    next = { ...state, pendingSince: undefined, missed }
    if (missed >= c.maxMissed) return { state: next, action: "dead" }
  }
  if (c.inactivity !== undefined && now - next.lastActivity >= c.inactivity) return { state: next, action: "inactive" }
  if (next.pendingSince === undefined && (next.missed > 0 || now - next.lastReceived >= c.interval)) {
    return { state: { ...next, pendingSince: now }, action: "send_enquire_link" }
  }
  return { state: next, action: "none" }
}

/**
 * The earliest time at which `tick` may answer something other than "none": the session
 * can sleep until then (and tick again when traffic moved it).
 *
 * @since 0.1.0
 * @category utils
 */
export const nextDeadline = (state: State): number => {
  const c = state.config
  const heartbeat = state.pendingSince !== undefined
    ? state.pendingSince + c.responseTimeout
    : state.missed > 0
    ? state.lastReceived
    : state.lastReceived + c.interval
  return c.inactivity === undefined ? heartbeat : Math.min(heartbeat, state.lastActivity + c.inactivity)
}
