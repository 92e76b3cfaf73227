import { describe, it, assert } from "@effect/vitest"
import * as Keepalive from "../src/Keepalive.js"

const S = 1000

/** Ticks at `now`, asserting the action; returns the next state. */
const expectTick = (state: Keepalive.State, now: number, action: Keepalive.Action): Keepalive.State => {
  const result = Keepalive.tick(state, now)
  assert.strictEqual(result.action, action, `tick at ${now}`)
  return result.state
}

describe("Keepalive", () => {
  it("resolves defaults: 30 s interval, response timeout = interval, 3 misses, no inactivity", () => {
    assert.deepStrictEqual(Keepalive.config(), {
      interval: 30_000,
      responseTimeout: 30_000,
      maxMissed: 3,
      inactivity: undefined
    })
    assert.deepStrictEqual(
      Keepalive.config({ interval: "10 seconds", responseTimeout: 2500, maxMissed: 0, inactivity: "5 minutes" }),
      { interval: 10_000, responseTimeout: 2500, maxMissed: 1, inactivity: 300_000 }
    )
    assert.strictEqual(Keepalive.config({ interval: "1 minute" }).responseTimeout, 60_000)
  })

  it("sends the first enquire_link exactly 30 s after the last traffic", () => {
    let s = Keepalive.make(Keepalive.config(), 0)
    s = expectTick(s, 1 * S, "none")
    s = expectTick(s, 29_999, "none")
    s = expectTick(s, 30_000, "send_enquire_link")
    assert.strictEqual(s.pendingSince, 30_000)
  })

  it("counts idle time from the last PDU received: traffic postpones the enquire_link", () => {
    let s = Keepalive.make(Keepalive.config(), 0)
    s = Keepalive.onTraffic(s, 20 * S)
    s = expectTick(s, 30 * S, "none")
    s = expectTick(s, 49_999, "none")
    s = Keepalive.onTraffic(s, 45 * S, "keepalive") // the peer's enquire_link counts too
    s = expectTick(s, 50 * S, "none")
    s = expectTick(s, 75 * S, "send_enquire_link")
  })

  it("does not ask again while an enquire_link awaits its response", () => {
    let s = Keepalive.make(Keepalive.config(), 0)
    s = expectTick(s, 30 * S, "send_enquire_link")
    s = Keepalive.onEnquireLinkSent(s, 30 * S)
    for (let t = 31 * S; t < 60 * S; t += S) s = expectTick(s, t, "none")
  })

  it("declares the peer dead after three enquire_links in a row without response", () => {
    let s = Keepalive.make(Keepalive.config(), 0)
    s = expectTick(s, 30 * S, "send_enquire_link")
    s = Keepalive.onEnquireLinkSent(s, 30 * S)
    s = expectTick(s, 59_999, "none")
    s = expectTick(s, 60 * S, "send_enquire_link")
    assert.strictEqual(s.missed, 1)
    s = Keepalive.onEnquireLinkSent(s, 60 * S)
    s = expectTick(s, 90 * S, "send_enquire_link")
    assert.strictEqual(s.missed, 2)
    s = Keepalive.onEnquireLinkSent(s, 90 * S)
    s = expectTick(s, 119_999, "none")
    s = expectTick(s, 120 * S, "dead")
    assert.strictEqual(s.missed, 3)
    // It stays dead.
    expectTick(s, 121 * S, "dead")
  })

  it("starts the count again when a response arrives", () => {
    let s = Keepalive.make(Keepalive.config(), 0)
    s = Keepalive.onEnquireLinkSent(expectTick(s, 30 * S, "send_enquire_link"), 30 * S)
    s = Keepalive.onEnquireLinkSent(expectTick(s, 60 * S, "send_enquire_link"), 60 * S)
    s = Keepalive.onEnquireLinkSent(expectTick(s, 90 * S, "send_enquire_link"), 90 * S)
    assert.strictEqual(s.missed, 2)
    s = Keepalive.onEnquireLinkResp(s, 95 * S)
    assert.strictEqual(s.missed, 0)
    assert.isUndefined(s.pendingSince)
    s = expectTick(s, 120 * S, "none")
    s = Keepalive.onEnquireLinkSent(expectTick(s, 125 * S, "send_enquire_link"), 125 * S)
    s = Keepalive.onEnquireLinkSent(expectTick(s, 155 * S, "send_enquire_link"), 155 * S)
    s = Keepalive.onEnquireLinkSent(expectTick(s, 185 * S, "send_enquire_link"), 185 * S)
    expectTick(s, 215 * S, "dead")
  })

  it("takes any PDU received after the enquire_link as proof of life", () => {
    let s = Keepalive.make(Keepalive.config(), 0)
    s = Keepalive.onEnquireLinkSent(expectTick(s, 30 * S, "send_enquire_link"), 30 * S)
    s = Keepalive.onEnquireLinkSent(expectTick(s, 60 * S, "send_enquire_link"), 60 * S)
    s = Keepalive.onTraffic(s, 70 * S)
    assert.strictEqual(s.missed, 0)
    s = expectTick(s, 90 * S, "none")
    expectTick(s, 100 * S, "send_enquire_link")
  })

  it("dies at the first timeout with maxMissed 1, and honours a short response timeout", () => {
    let one = Keepalive.make(Keepalive.config({ maxMissed: 1 }), 0)
    one = Keepalive.onEnquireLinkSent(expectTick(one, 30 * S, "send_enquire_link"), 30 * S)
    expectTick(one, 60 * S, "dead")

    let quick = Keepalive.make(Keepalive.config({ responseTimeout: "5 seconds" }), 0)
    quick = Keepalive.onEnquireLinkSent(expectTick(quick, 30 * S, "send_enquire_link"), 30 * S)
    quick = expectTick(quick, 34_999, "none")
    quick = Keepalive.onEnquireLinkSent(expectTick(quick, 35 * S, "send_enquire_link"), 35 * S)
    quick = Keepalive.onEnquireLinkSent(expectTick(quick, 40 * S, "send_enquire_link"), 40 * S)
    expectTick(quick, 45 * S, "dead")
  })

  it("times the response from the actual send, not from the tick that asked for it", () => {
    let s = Keepalive.make(Keepalive.config({ maxMissed: 1 }), 0)
    s = expectTick(s, 30 * S, "send_enquire_link")
    s = Keepalive.onEnquireLinkSent(s, 32 * S)
    s = expectTick(s, 61_999, "none")
    expectTick(s, 62 * S, "dead")
  })

  it("keeps a responsive peer alive for hours, one enquire_link per idle interval", () => {
    let s = Keepalive.make(Keepalive.config(), 0)
    let sent = 0
    let answerAt: number | undefined
    for (let t = 0; t <= 3 * 3600 * S; t += 500) {
      if (answerAt !== undefined && t >= answerAt) {
        s = Keepalive.onEnquireLinkResp(s, t)
        answerAt = undefined
      }
      const r = Keepalive.tick(s, t)
      if (r.action === "dead" || r.action === "inactive") assert.fail(`${r.action} at ${t}`)
      s = r.state
      if (r.action === "send_enquire_link") {
        sent++
        s = Keepalive.onEnquireLinkSent(s, t)
        answerAt = t + 1500
      }
    }
    // Every 31.5 s: 30 s idle after each response, which comes 1.5 s after its request.
    assert.strictEqual(sent, Math.floor((3 * 3600 * S - 30 * S) / 31_500) + 1)
  })

  describe("inactivity", () => {
    it("is off by default: heartbeats alone keep the session for a day", () => {
      let s = Keepalive.make(Keepalive.config(), 0)
      let sent = 0
      for (let t = 0; t <= 24 * 3600 * S; t += 5 * S) {
        const r = Keepalive.tick(s, t)
        if (r.action !== "none" && r.action !== "send_enquire_link") assert.fail(`${r.action} at ${t}`)
        s = r.state
        if (r.action === "send_enquire_link") {
          sent++
          s = Keepalive.onEnquireLinkResp(Keepalive.onEnquireLinkSent(s, t), t)
        }
      }
      assert.strictEqual(sent, 24 * 3600 / 30)
    })

    it("fires after N ms without activity, heartbeats notwithstanding", () => {
      let s = Keepalive.make(Keepalive.config({ inactivity: "60 seconds" }), 0)
      s = Keepalive.onEnquireLinkSent(expectTick(s, 30 * S, "send_enquire_link"), 30 * S)
      s = Keepalive.onEnquireLinkResp(s, 31 * S)
      s = Keepalive.onTraffic(s, 40 * S, "keepalive")
      s = expectTick(s, 59_999, "none")
      expectTick(s, 60 * S, "inactive")
    })

    it("is postponed by activity", () => {
      let s = Keepalive.make(Keepalive.config({ inactivity: 60 * S, interval: 100 * S }), 0)
      s = Keepalive.onTraffic(s, 50 * S)
      s = expectTick(s, 60 * S, "none")
      s = expectTick(s, 109_999, "none")
      expectTick(s, 110 * S, "inactive")
    })

    it("reports dead before inactive when both are due", () => {
      let s = Keepalive.make(Keepalive.config({ inactivity: 60 * S, maxMissed: 1 }), 0)
      s = Keepalive.onEnquireLinkSent(expectTick(s, 30 * S, "send_enquire_link"), 30 * S)
      expectTick(s, 60 * S, "dead")
    })
  })

  it("nextDeadline says when the next tick can matter", () => {
    const c = Keepalive.config({ inactivity: 100 * S })
    let s = Keepalive.make(c, 0)
    assert.strictEqual(Keepalive.nextDeadline(s), 30 * S)
    s = Keepalive.onTraffic(s, 10 * S)
    assert.strictEqual(Keepalive.nextDeadline(s), 40 * S)
    s = Keepalive.onEnquireLinkSent(expectTick(s, 40 * S, "send_enquire_link"), 41 * S)
    assert.strictEqual(Keepalive.nextDeadline(s), 71 * S)
    s = Keepalive.onEnquireLinkResp(s, 42 * S)
    assert.strictEqual(Keepalive.nextDeadline(s), 72 * S)
    s = Keepalive.onTraffic(s, 95 * S, "keepalive")
    // Inactivity (10 s + 100 s) comes before the next heartbeat (95 s + 30 s).
    assert.strictEqual(Keepalive.nextDeadline(s), 110 * S)
    // Ticking exactly at each deadline is enough to see every action.
    expectTick(s, Keepalive.nextDeadline(s), "inactive")
  })
})
