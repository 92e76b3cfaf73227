/**
 * Standard input as a service, so that commands reading `-` can be run in tests with
 * text of the test's choosing.
 *
 * @since 0.1.0
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * Standard input could not be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class StdinError extends Data.TaggedError("StdinError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `cannot read standard input: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface StdinService {
  /** Everything on standard input up to its end, as UTF-8 text. */
  readonly readAll: Effect.Effect<string, StdinError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Stdin extends Context.Tag("@effect-smpp/gateway/cli/Stdin")<Stdin, StdinService>() {}

/**
 * The process's standard input.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Stdin> = Layer.succeed(Stdin, {
  readAll: NodeStream.toString(() => process.stdin, { onFailure: (cause) => new StdinError({ cause }) })
})

/**
 * Standard input holding the given text (for tests).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerText = (text: string): Layer.Layer<Stdin> => Layer.succeed(Stdin, { readAll: Effect.succeed(text) })
