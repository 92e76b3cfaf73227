/**
 * `smpp password hash`: the scrypt hash an account's `password` takes in the config file.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Password from "../Password.js"
import { Stdin } from "./Stdin.js"

/**
 * Standard input held no password.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingPassword extends Data.TaggedError("MissingPassword")<{}> {
  override get message() {
    return "give the password on standard input"
  }
}

/**
 * Reads the password from standard input (so it stays out of the shell history and the
 * process list) and prints its hash. A trailing newline is not part of the password.
 *
 * @since 0.1.0
 * @category commands
 */
export const hash = Command.make("hash", {}, () =>
  Effect.gen(function*() {
    const stdin = yield* Stdin
    const password = (yield* stdin.readAll).replace(/\r?\n$/, "")
    if (password.length === 0) {
      yield* Console.error("smpp password hash: give the password on standard input")
      return yield* new MissingPassword()
    }
    yield* Console.log(yield* Password.hash(password))
  })).pipe(Command.withDescription("Hash a password (read from stdin) for an account in the config file"))

/**
 * `smpp password`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("password").pipe(
  Command.withDescription("Account passwords"),
  Command.withSubcommands([hash])
)
