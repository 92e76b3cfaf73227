import { assert, describe, it } from "@effect/vitest"
import * as MessageState from "../src/MessageState.js"

const table: ReadonlyArray<readonly [MessageState.MessageStateName, number, string]> = [
  ["ENROUTE", 1, "ENROUTE"],
  ["DELIVERED", 2, "DELIVRD"],
  ["EXPIRED", 3, "EXPIRED"],
  ["DELETED", 4, "DELETED"],
  ["UNDELIVERABLE", 5, "UNDELIV"],
  ["ACCEPTED", 6, "ACCEPTD"],
  ["UNKNOWN", 7, "UNKNOWN"],
  ["REJECTED", 8, "REJECTD"]
]

describe("MessageState", () => {
  it("has the specification's values and stat words", () => {
    for (const [name, value, word] of table) {
      assert.strictEqual(MessageState.MessageState[name], value)
      assert.strictEqual(MessageState.StatWord[name], word)
      assert.strictEqual(MessageState.nameOf(value), name)
      assert.strictEqual(MessageState.toStatWord(value), word)
      assert.strictEqual(MessageState.fromStatWord(word), value)
      assert.isTrue(MessageState.isMessageState(value))
    }
    assert.strictEqual(Object.keys(MessageState.MessageState).length, 8)
  })

  it("maps every state to its word and back", () => {
    for (let state = 1; state <= 8; state++) {
      const word = MessageState.toStatWord(state)
      assert.isDefined(word)
      assert.strictEqual(MessageState.fromStatWord(word!), state)
    }
  })

  it("has nothing outside 1–8", () => {
    for (const value of [0, 9, 255, -1, 1.5]) {
      assert.isUndefined(MessageState.nameOf(value))
      assert.isUndefined(MessageState.toStatWord(value))
      assert.isFalse(MessageState.isMessageState(value))
    }
  })

  it("reads stat words in any letter case and with stray spaces", () => {
    assert.strictEqual(MessageState.fromStatWord("delivrd"), MessageState.MessageState.DELIVERED)
    assert.strictEqual(MessageState.fromStatWord("Undeliv"), MessageState.MessageState.UNDELIVERABLE)
    assert.strictEqual(MessageState.fromStatWord(" REJECTD "), MessageState.MessageState.REJECTED)
  })

  it("reads the full state names some SMSCs send", () => {
    assert.strictEqual(MessageState.fromStatWord("DELIVERED"), 2)
    assert.strictEqual(MessageState.fromStatWord("UNDELIVERABLE"), 5)
    assert.strictEqual(MessageState.fromStatWord("undelivered"), 5)
    assert.strictEqual(MessageState.fromStatWord("ACCEPTED"), 6)
    assert.strictEqual(MessageState.fromStatWord("REJECTED"), 8)
  })

  it("maps the obvious vendor words and leaves the others unmapped", () => {
    assert.strictEqual(MessageState.fromStatWord("BUFFRED"), MessageState.MessageState.ENROUTE)
    assert.strictEqual(MessageState.fromStatWord("BUFFERED"), MessageState.MessageState.ENROUTE)
    assert.strictEqual(MessageState.fromStatWord("FAILED"), MessageState.MessageState.UNDELIVERABLE)
    assert.strictEqual(MessageState.fromStatWord("failure"), MessageState.MessageState.UNDELIVERABLE)
    assert.isUndefined(MessageState.fromStatWord("ACKED"))
    assert.isUndefined(MessageState.fromStatWord("SCHEDULED"))
    assert.isUndefined(MessageState.fromStatWord(""))
    assert.isUndefined(MessageState.fromStatWord("DELIVRDX"))
  })
})
