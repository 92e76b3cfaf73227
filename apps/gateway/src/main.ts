/**
 * The entry point of the `smpp` command (bin/smpp.js).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Cli from "./cli/Cli.js"
import * as Stdin from "./cli/Stdin.js"

Cli.run(process.argv).pipe(
  Effect.provide(Layer.merge(NodeContext.layer, Stdin.layer)),
  // Cli.run has printed every error already; runMain only sets the exit code.
  NodeRuntime.runMain({ disableErrorReporting: true })
)
