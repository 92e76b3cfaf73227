import { assert, describe, it } from "@effect/vitest"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Accounts from "../src/Accounts.js"
import * as GatewayConfig from "../src/GatewayConfig.js"
import * as Password from "../src/Password.js"

// a low scrypt cost keeps the tests fast; the format and the check are the same
const cheap = { N: 1024, r: 8, p: 1 }

const settings = (input: typeof GatewayConfig.AccountSettings.Encoded) =>
  Schema.decodeUnknownSync(GatewayConfig.AccountSettings)(input)

const refusal = <A>(effect: Effect.Effect<A, Accounts.AuthenticationError, Scope.Scope>) =>
  Effect.map(Effect.flip(effect), (error) => [error.reason, error.status] as const)

describe("Password", () => {
  it.effect("hashes in the scrypt$N$r$p$salt$hash format and verifies only the right password", () =>
    Effect.gen(function*() {
      const hash = yield* Password.hash("s3cret", cheap)
      assert.match(hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
      const parsed = Either.getOrThrow(Password.parse(hash))
      assert.isTrue(yield* Password.verify("s3cret", parsed))
      assert.isFalse(yield* Password.verify("s3cre", parsed))
      assert.isFalse(yield* Password.verify("S3cret", parsed))
      // a fresh salt each time
      assert.notStrictEqual(yield* Password.hash("s3cret", cheap), hash)
    }))

  it("refuses malformed hashes", () => {
    for (const bad of ["scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==", "scrypt$1024$8$1$!!$aGFzaA==", "bcrypt$x"]) {
      assert.isTrue(Either.isLeft(Password.parse(bad)), bad)
    }
  })

  it("compares plain text in constant time by digest", () => {
    assert.isTrue(Password.equalsPlain("demo", "demo"))
    assert.isFalse(Password.equalsPlain("demo1", "demo"))
    assert.isFalse(Password.equalsPlain("", "demo"))
  })
})

describe("Accounts", () => {
  const acme = (hash: string) =>
    settings({ systemId: "acme", password: hash, bindKinds: ["transmitter", "receiver"], maxSessions: 2 })

  it.scoped("authenticates, and refuses with the status of each reason", () =>
    Effect.gen(function*() {
      const hash = yield* Password.hash("pw", cheap)
      const accounts = yield* Accounts.make([acme(hash)])
      const account = yield* accounts.authenticate({ systemId: "acme", password: "pw", kind: "transmitter" })
      assert.strictEqual(account.systemId, "acme")
      assert.deepStrictEqual(
        yield* refusal(accounts.authenticate({ systemId: "nobody", password: "pw", kind: "transmitter" })),
        ["UnknownSystemId", CommandStatus.ESME_RINVSYSID]
      )
      assert.deepStrictEqual(
        yield* refusal(accounts.authenticate({ systemId: "acme", password: "wrong", kind: "transmitter" })),
        ["WrongPassword", CommandStatus.ESME_RINVPASWD]
      )
      assert.deepStrictEqual(
        yield* refusal(accounts.authenticate({ systemId: "acme", password: "pw", kind: "transceiver" })),
        ["BindKindNotAllowed", CommandStatus.ESME_RBINDFAIL]
      )
    }))

  it.effect("counts sessions per Scope and refuses beyond maxSessions", () =>
    Effect.gen(function*() {
      const accounts = yield* Accounts.make([acme(yield* Password.hash("pw", cheap))])
      const request = { systemId: "acme", password: "pw", kind: "receiver" } as const
      const first = yield* Scope.make()
      const second = yield* Scope.make()
      yield* Scope.extend(accounts.bind(request), first)
      yield* Scope.extend(accounts.bind(request), second)
      assert.strictEqual(accounts.sessions("acme"), 2)
      assert.deepStrictEqual(yield* Effect.scoped(refusal(accounts.bind(request))), [
        "TooManySessions",
        CommandStatus.ESME_RBINDFAIL
      ])
      assert.strictEqual(accounts.sessions("acme"), 2)
      yield* Scope.close(first, Exit.void)
      assert.strictEqual(accounts.sessions("acme"), 1)
      yield* Effect.scoped(accounts.bind(request))
      assert.strictEqual(accounts.sessions("acme"), 1)
      yield* Scope.close(second, Exit.void)
      assert.strictEqual(accounts.sessions("acme"), 0)
      // a refused password takes no session
      yield* Effect.scoped(Effect.flip(accounts.bind({ ...request, password: "nope" })))
      assert.strictEqual(accounts.sessions("acme"), 0)
    }))

  it.effect("throttles beyond maxThroughput, refilling on the Clock", () =>
    Effect.gen(function*() {
      const accounts = yield* Accounts.make([
        settings({ systemId: "demo", password: "demo", maxThroughput: 5 }),
        settings({ systemId: "fast", password: yield* Password.hash("x", cheap) })
      ])
      const admitted = yield* Effect.forEach(Array.from({ length: 7 }), () => accounts.admit("demo"))
      assert.deepStrictEqual(admitted, [true, true, true, true, true, false, false])
      yield* TestClock.adjust("200 millis")
      assert.isTrue(yield* accounts.admit("demo"))
      assert.isFalse(yield* accounts.admit("demo"))
      yield* TestClock.adjust("10 seconds")
      // saved up to the burst (one second's worth), not more
      const later = yield* Effect.forEach(Array.from({ length: 6 }), () => accounts.admit("demo"))
      assert.strictEqual(later.filter(Boolean).length, 5)
      // no limit configured: always admitted; unknown accounts never
      const unlimited = yield* Effect.forEach(Array.from({ length: 1000 }), () => accounts.admit("fast"))
      assert.isTrue(unlimited.every(Boolean))
      assert.isFalse(yield* accounts.admit("nobody"))
    }))

  it.effect("matches source addresses against the account's patterns", () =>
    Effect.gen(function*() {
      const accounts = yield* Accounts.make([
        settings({
          systemId: "acme",
          password: yield* Password.hash("pw", cheap),
          sourceAddresses: ["Acme", "4930*", "49?0"]
        }),
        settings({ systemId: "demo", password: "demo" })
      ])
      assert.isTrue(accounts.isSourceAllowed("acme", "Acme"))
      assert.isFalse(accounts.isSourceAllowed("acme", "AcmeX"))
      assert.isTrue(accounts.isSourceAllowed("acme", "4930123456"))
      assert.isTrue(accounts.isSourceAllowed("acme", "4910"))
      assert.isFalse(accounts.isSourceAllowed("acme", "4940123"))
      assert.isFalse(accounts.isSourceAllowed("acme", "A.me"))
      assert.isTrue(accounts.isSourceAllowed("demo", "anything"))
      assert.isFalse(accounts.isSourceAllowed("nobody", "Acme"))
    }))

  it.effect("the default configuration has the demo account with password demo", () =>
    Effect.gen(function*() {
      const accounts = yield* Accounts.Accounts
      const demo = yield* accounts.authenticate({ systemId: "demo", password: "demo", kind: "transceiver" })
      assert.strictEqual(demo.systemId, "demo")
      assert.isTrue(Option.isSome(accounts.get("demo")))
      const wrong = yield* Effect.flip(accounts.authenticate({ systemId: "demo", password: "demo1", kind: "transceiver" }))
      assert.strictEqual(wrong.status, CommandStatus.ESME_RINVPASWD)
    }).pipe(Effect.provide(Accounts.Accounts.DefaultWithoutDependencies), Effect.provide(GatewayConfig.Test)))
})
