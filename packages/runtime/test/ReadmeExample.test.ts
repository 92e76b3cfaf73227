// The README's library example, kept true by running it.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { SmppClient } from "../src/SmppClient.js"
import * as TestKit from "../src/TestKit.js"

// The application's code: it needs an SmppClient and nothing else.
const notify = (to: string, text: string) =>
  Effect.flatMap(SmppClient, (client) => client.submit({ from: "Shop", to, text, registeredDelivery: true }))

describe("README example", () => {
  it.scoped("a service using SmppClient, tested against the scripted SMSC on the TestClock", () =>
    Effect.gen(function*() {
      const smsc = yield* TestKit.Smsc
      yield* smsc.throttle(1) // the first submit is answered ESME_RTHROTTLED
      const fiber = yield* Effect.fork(notify("+4912345678", "Your order has shipped"))
      yield* TestClock.adjust("2 seconds") // the client retries on its Schedule
      const { messageIds } = yield* Fiber.join(fiber)
      assert.strictEqual(messageIds.length, 1)
    }).pipe(Effect.provide(TestKit.smsc({ systemId: "shop", password: "secret" }))))
})
