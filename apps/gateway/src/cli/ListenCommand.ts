/**
 * `smpp listen`: binds as a receiver and prints every mobile-originated message and delivery
 * receipt as it arrives, one line each (JSON lines with `--json`), acknowledging each once it
 * is printed. Runs until interrupted (SIGINT / SIGTERM: unbind, exit 0). A session lost after
 * the bind is reconnected with backoff (noted on standard error); a first bind that fails
 * is the command's failure.
 *
 * @since 0.1.0
 */
import type * as SmppClient from "@effect-smpp/runtime/SmppClient"
import * as MessageState from "@effect-smpp/schema/MessageState"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Connection from "./Connection.js"
import type { ClientCommandError } from "./Connection.js"
import { statOf } from "./SendCommand.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ListenOptions extends Connection.Target {
  readonly json: boolean
}

const addressText = (address: SmppClient.ReceivedAddress): string =>
  address.ton === 1 && address.addr.length > 0 ? `+${address.addr}` : address.addr

const addressJson = (address: SmppClient.ReceivedAddress) => ({ addr: address.addr, ton: address.ton, npi: address.npi })

/**
 * The line printed for a delivery at `time` (ISO 8601): text, or one JSON object.
 *
 * - `<time> MO from <source> to <destination>: "<text>"` (text as a JSON string, so that it
 *   stays on one line), with ` (<n> parts)` for a concatenated message;
 * - `<time> DLR <message id> <STAT> err:<err> from <handset> to <sender>`.
 *
 * JSON: `{"type":"mo",…}` or `{"type":"receipt",…}` with the fields of the text form and more
 * (addresses with ton/npi, data_coding, message_state, the receipt's dates).
 *
 * @since 0.1.0
 * @category utils
 */
export const formatDelivery = (delivery: SmppClient.Delivery, time: string, json: boolean): string => {
  if (delivery._tag === "MoMessage") {
    if (json) {
      return JSON.stringify({
        type: "mo",
        time,
        from: addressJson(delivery.source),
        to: addressJson(delivery.destination),
        text: delivery.text,
        dataCoding: delivery.dataCoding,
        parts: delivery.parts
      })
    }
    const parts = delivery.parts > 1 ? ` (${delivery.parts} parts)` : ""
    return `${time} MO from ${addressText(delivery.source)} to ${addressText(delivery.destination)}: ${
      JSON.stringify(delivery.text)
    }${parts}`
  }
  const stat = statOf(delivery)
  if (json) {
    return JSON.stringify({
      type: "receipt",
      time,
      messageId: delivery.messageId,
      stat,
      state: delivery.state === undefined ? null : MessageState.nameOf(delivery.state) ?? null,
      err: delivery.error ?? null,
      from: addressJson(delivery.source),
      to: addressJson(delivery.destination),
      submitDate: delivery.receipt?.submitDate?.raw ?? null,
      doneDate: delivery.receipt?.doneDate?.raw ?? null,
      text: delivery.receipt?.text ?? null
    })
  }
  const err = delivery.error === undefined ? "" : ` err:${delivery.error}`
  return `${time} DLR ${delivery.messageId} ${stat}${err} from ${addressText(delivery.source)} to ${
    addressText(delivery.destination)
  }`
}

/** Connection changes after the bind, on standard error. */
const noteState = (state: SmppClient.ConnectionState): Effect.Effect<void> => {
  switch (state._tag) {
    case "Bound":
      return Console.error(`bound as ${state.kind} to ${state.peer}; waiting for messages (Ctrl-C to stop)`)
    case "Disconnected":
      return Console.error(`disconnected: ${state.error.message}; reconnecting`)
    case "Stopped":
    case "Connecting":
      return Effect.void
  }
}

/**
 * Runs `smpp listen` with parsed options until interrupted; fails (after printing why) when
 * the first bind fails.
 *
 * @since 0.1.0
 * @category running
 */
export const listen = (options: ListenOptions): Effect.Effect<never, ClientCommandError> =>
  Effect.gen(function*() {
    const print = (delivery: SmppClient.Delivery) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) => Console.log(formatDelivery(delivery, new Date(now).toISOString(), options.json))
      )
    const client = yield* Connection.bind(options, "receiver", { name: "smpp-listen", onDelivery: print })
    yield* Effect.forkScoped(Stream.runForEach(client.stateChanges, noteState))
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Connection.withLogs(options.verbose),
    Connection.reportFailure("listen")
  )

/**
 * `smpp listen`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "listen",
  {
    target: Connection.target,
    json: Options.boolean("json").pipe(Options.withDescription("print one JSON object per line"))
  },
  ({ json, target }) => listen({ ...target, json })
).pipe(Command.withDescription("Bind as a receiver and print MO messages and delivery receipts as they arrive"))
