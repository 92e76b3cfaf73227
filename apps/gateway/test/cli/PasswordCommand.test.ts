import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import type * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "../../src/cli/Cli.js"
import * as Stdin from "../../src/cli/Stdin.js"
import * as GatewayConfig from "../../src/GatewayConfig.js"
import * as Password from "../../src/Password.js"

const smpp = (args: ReadonlyArray<string>, stdin: string) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const base = yield* Effect.console
    const console: Console.Console = {
      ...base,
      log: (...parts) => Effect.sync(() => void out.push(parts.map(String).join(" "))),
      error: (...parts) => Effect.sync(() => void out.push(parts.map(String).join(" ")))
    }
    const exit = yield* Cli.run(["node", "smpp", ...args]).pipe(
      Effect.withConsole(console),
      Effect.provide(Layer.merge(NodeContext.layer, Stdin.layerText(stdin))),
      Effect.exit
    )
    return { exit, out: out.join("\n") }
  })

describe("smpp password hash", () => {
  it.effect("prints a scrypt hash that verifies and that the config accepts", () =>
    Effect.gen(function*() {
      const { exit, out } = yield* smpp(["password", "hash"], "s3cret\n")
      assert.isTrue(Exit.isSuccess(exit))
      const parsed = Password.parse(out.trim())
      assert.isTrue(Either.isRight(parsed))
      if (Either.isRight(parsed)) {
        assert.isTrue(yield* Password.verify("s3cret", parsed.right))
        assert.isFalse(yield* Password.verify("s3cret\n", parsed.right))
      }
      const config = GatewayConfig.decode({ accounts: [{ systemId: "acme", password: out.trim() }] })
      assert.isTrue(Either.isRight(config))
    }))

  it.effect("fails without a password", () =>
    Effect.gen(function*() {
      const { exit, out } = yield* smpp(["password", "hash"], "")
      assert.isTrue(Exit.isFailure(exit))
      assert.include(out, "standard input")
    }))
})
