/**
 * The `smpp` command. Each subcommand lives in its own module and is added to
 * `subcommands` below in one line.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as BenchCommand from "./BenchCommand.js"
import * as ListenCommand from "./ListenCommand.js"
import * as PasswordCommand from "./PasswordCommand.js"
import * as PduCommand from "./PduCommand.js"
import * as SendCommand from "./SendCommand.js"
import * as ServeCommand from "./ServeCommand.js"

/**
 * The version `smpp --version` prints (the gateway package's version).
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

const subcommands = [
  PduCommand.command,
  ServeCommand.command,
  SendCommand.command,
  ListenCommand.command,
  BenchCommand.command,
  PasswordCommand.command
] as const

/**
 * The root command, `smpp`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("smpp").pipe(
  Command.withDescription("effect-smpp: an SMPP 3.4 gateway, SMSC simulator and toolbox"),
  Command.withSubcommands(subcommands)
)

const cli = Command.run(command, { name: "smpp", version, executable: "smpp" })

/**
 * Runs `smpp` on a command line (`process.argv`: the first two entries are node and the
 * script). Errors a command expects are printed by the command itself; anything else is
 * printed here, so the entry point can exit 1 without reporting again.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>) =>
  cli(argv).pipe(Effect.tapDefect((cause) => Console.error(Cause.pretty(cause))))
