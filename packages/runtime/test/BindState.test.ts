import { describe, it, assert } from "@effect/vitest"
import { commandNames, isResponseId, CommandId } from "@effect-smpp/schema/CommandId"
import type { CommandName } from "@effect-smpp/schema/CommandId"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as BindState from "../src/BindState.js"

const { ESME_RALYBND, ESME_RINVBNDSTS } = CommandStatus
type S = BindState.State

// The table of SMPP34.md "Which session may send what", written out state by state, plus the
// module's documented choices (enquire_link in OPEN and UNBOUND, unbind in UNBOUND, responses
// in every state but CLOSED).
const bound: ReadonlyArray<S> = ["BOUND_TX", "BOUND_RX", "BOUND_TRX"]
const tx: ReadonlyArray<S> = ["BOUND_TX", "BOUND_TRX"]
const rx: ReadonlyArray<S> = ["BOUND_RX", "BOUND_TRX"]
const requests: Record<string, { esme: ReadonlyArray<S>; smsc: ReadonlyArray<S> }> = {
  submit_sm: { esme: tx, smsc: [] },
  submit_multi: { esme: tx, smsc: [] },
  query_sm: { esme: tx, smsc: [] },
  cancel_sm: { esme: tx, smsc: [] },
  replace_sm: { esme: tx, smsc: [] },
  deliver_sm: { esme: [], smsc: rx },
  data_sm: { esme: tx, smsc: rx },
  alert_notification: { esme: [], smsc: rx },
  enquire_link: { esme: ["OPEN", ...bound, "UNBOUND"], smsc: ["OPEN", ...bound, "UNBOUND"] },
  unbind: { esme: [...bound, "UNBOUND"], smsc: [...bound, "UNBOUND"] },
  bind_transmitter: { esme: ["OPEN"], smsc: [] },
  bind_receiver: { esme: ["OPEN"], smsc: [] },
  bind_transceiver: { esme: ["OPEN"], smsc: [] },
  outbind: { esme: [], smsc: ["OPEN"] }
}

const isBind = (c: CommandName) => c === "bind_transmitter" || c === "bind_receiver" || c === "bind_transceiver"

/** What a `sender` in `state` may send, by the table above. */
const expected = (sender: BindState.Role, state: S, command: CommandName): BindState.Decision => {
  if (isResponseId(CommandId[command])) {
    return state === "CLOSED" ? { ok: false, status: ESME_RINVBNDSTS } : { ok: true }
  }
  const row = requests[command]
  if (row === undefined) return assert.fail(`table misses ${command}`)
  if (row[sender].includes(state)) return { ok: true }
  if (sender === "esme" && isBind(command) && bound.includes(state)) return { ok: false, status: ESME_RALYBND }
  return { ok: false, status: ESME_RINVBNDSTS }
}

const roles: ReadonlyArray<BindState.Role> = ["esme", "smsc"]

describe("BindState", () => {
  it("covers all 27 commands and every request in the table", () => {
    assert.strictEqual(commandNames.length, 27)
    const requestNames = commandNames.filter((c) => !isResponseId(CommandId[c]))
    assert.sameMembers(requestNames, Object.keys(requests))
  })

  it("canSend matches the table for every command × state × role", () => {
    let checked = 0
    for (const role of roles) {
      for (const state of BindState.states) {
        for (const command of commandNames) {
          assert.deepStrictEqual(
            BindState.canSend(role, state, command),
            expected(role, state, command),
            `${role} sending ${command} in ${state}`
          )
          checked++
        }
      }
    }
    assert.strictEqual(checked, 2 * 6 * 27)
  })

  it("canReceive is what the peer may send, for every command × state × role", () => {
    let checked = 0
    for (const role of roles) {
      const peer = role === "esme" ? "smsc" : "esme"
      for (const state of BindState.states) {
        for (const command of commandNames) {
          assert.deepStrictEqual(
            BindState.canReceive(role, state, command),
            expected(peer, state, command),
            `${role} receiving ${command} in ${state}`
          )
          checked++
        }
      }
    }
    assert.strictEqual(checked, 2 * 6 * 27)
  })

  describe("spot checks, read straight from the specification", () => {
    it("an SMSC takes submit_sm from a transmitter or transceiver only", () => {
      assert.deepStrictEqual(BindState.canReceive("smsc", "BOUND_TX", "submit_sm"), { ok: true })
      assert.deepStrictEqual(BindState.canReceive("smsc", "BOUND_TRX", "submit_sm"), { ok: true })
      assert.deepStrictEqual(BindState.canReceive("smsc", "BOUND_RX", "submit_sm"), {
        ok: false,
        status: ESME_RINVBNDSTS
      })
      assert.deepStrictEqual(BindState.canReceive("smsc", "OPEN", "submit_sm"), { ok: false, status: ESME_RINVBNDSTS })
    })

    it("an ESME takes deliver_sm as receiver or transceiver, never as transmitter", () => {
      assert.isTrue(BindState.canReceive("esme", "BOUND_RX", "deliver_sm").ok)
      assert.isTrue(BindState.canReceive("esme", "BOUND_TRX", "deliver_sm").ok)
      assert.isFalse(BindState.canReceive("esme", "BOUND_TX", "deliver_sm").ok)
      assert.isFalse(BindState.canSend("esme", "BOUND_TRX", "deliver_sm").ok)
    })

    it("a second bind on a bound session is ESME_RALYBND", () => {
      for (const state of bound) {
        assert.deepStrictEqual(BindState.canReceive("smsc", state, "bind_transceiver"), {
          ok: false,
          status: ESME_RALYBND
        })
        assert.deepStrictEqual(BindState.canSend("esme", state, "bind_receiver"), { ok: false, status: ESME_RALYBND })
      }
      assert.deepStrictEqual(BindState.canReceive("smsc", "OPEN", "bind_transmitter"), { ok: true })
      assert.deepStrictEqual(BindState.canReceive("smsc", "UNBOUND", "bind_transmitter"), {
        ok: false,
        status: ESME_RINVBNDSTS
      })
    })

    it("outbind is received by an ESME in OPEN only", () => {
      assert.isTrue(BindState.canReceive("esme", "OPEN", "outbind").ok)
      assert.isTrue(BindState.canSend("smsc", "OPEN", "outbind").ok)
      assert.isFalse(BindState.canReceive("esme", "BOUND_RX", "outbind").ok)
      assert.isFalse(BindState.canReceive("smsc", "OPEN", "outbind").ok)
    })

    it("enquire_link is answered in OPEN and bound states, unbind only once bound", () => {
      assert.isTrue(BindState.canReceive("smsc", "OPEN", "enquire_link").ok)
      assert.isTrue(BindState.canReceive("esme", "BOUND_TX", "enquire_link").ok)
      assert.isFalse(BindState.canReceive("smsc", "OPEN", "unbind").ok)
      assert.isTrue(BindState.canReceive("esme", "BOUND_RX", "unbind").ok)
    })

    it("takes responses in any state but CLOSED", () => {
      assert.isTrue(BindState.canReceive("esme", "OPEN", "bind_transmitter_resp").ok)
      assert.isTrue(BindState.canReceive("esme", "OPEN", "generic_nack").ok)
      assert.isTrue(BindState.canReceive("esme", "UNBOUND", "submit_sm_resp").ok)
      assert.isFalse(BindState.canReceive("esme", "CLOSED", "unbind_resp").ok)
    })
  })

  it("maps bind kinds to commands, responses and states, both ways", () => {
    const kinds: ReadonlyArray<BindState.BindKind> = ["transmitter", "receiver", "transceiver"]
    const table = [
      ["transmitter", "bind_transmitter", "bind_transmitter_resp", "BOUND_TX"],
      ["receiver", "bind_receiver", "bind_receiver_resp", "BOUND_RX"],
      ["transceiver", "bind_transceiver", "bind_transceiver_resp", "BOUND_TRX"]
    ] as const
    for (const [kind, command, response, state] of table) {
      assert.strictEqual(BindState.bindCommandOf(kind), command)
      assert.strictEqual(BindState.bindResponseOf(kind), response)
      assert.strictEqual(BindState.afterBind(kind), state)
      assert.strictEqual(BindState.bindKindOf(command), kind)
      assert.strictEqual(BindState.bindKindOf(response), kind)
      assert.strictEqual(BindState.kindOfState(state), kind)
      assert.isTrue(BindState.isBound(BindState.afterBind(kind)))
    }
    assert.strictEqual(kinds.length, table.length)
    for (const command of commandNames) {
      if (!command.startsWith("bind_")) assert.isUndefined(BindState.bindKindOf(command), command)
    }
    for (const state of ["OPEN", "UNBOUND", "CLOSED"] as const) {
      assert.isFalse(BindState.isBound(state))
      assert.isUndefined(BindState.kindOfState(state))
    }
  })

  it("peerOf", () => {
    assert.strictEqual(BindState.peerOf("esme"), "smsc")
    assert.strictEqual(BindState.peerOf("smsc"), "esme")
  })
})
