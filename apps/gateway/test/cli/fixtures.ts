/**
 * For the tests of `smpp send` / `listen` / `bench`: the CLI run in process with what it
 * prints captured, and an SMSC (our SmppServer) on 127.0.0.1, port 0, that numbers the
 * messages it accepts and pushes their receipts.
 */
import * as SmppServer from "@effect-smpp/runtime/SmppServer"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as DeliveryReceipt from "@effect-smpp/schema/DeliveryReceipt"
import * as MessageState from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as NodeContext from "@effect/platform-node/NodeContext"
import type * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type * as Scope from "effect/Scope"
import { ProgressOutput } from "../../src/cli/BenchCommand.js"
import * as Cli from "../../src/cli/Cli.js"
import * as Stdin from "../../src/cli/Stdin.js"

export const HOST = "127.0.0.1"
export const SYSTEM_ID = "alice"
export const PASSWORD = "secret"

/** What a run of `smpp` printed so far (the arrays fill while it runs). */
export interface Captured {
  readonly stdout: Array<string>
  readonly stderr: Array<string>
  /** Raw chunks of the progress line. */
  readonly progress: Array<string>
}

/** `smpp <args>` in process: the effect of the run, and what it prints. */
export const smppRun = (args: ReadonlyArray<string>, stdin = "") =>
  Effect.gen(function*() {
    const captured: Captured = { stdout: [], stderr: [], progress: [] }
    const base = yield* Effect.console
    const line = (into: Array<string>) => (...parts: ReadonlyArray<unknown>) => {
      into.push(parts.map(String).join(" "))
    }
    const console: Console.Console = {
      ...base,
      log: (...parts) => Effect.sync(() => line(captured.stdout)(...parts)),
      error: (...parts) => Effect.sync(() => line(captured.stderr)(...parts)),
      unsafe: { ...base.unsafe, log: line(captured.stdout), error: line(captured.stderr) }
    }
    const run = Cli.run(["node", "smpp", ...args]).pipe(
      Effect.withConsole(console),
      Effect.provideService(ProgressOutput, { write: (chunk) => captured.progress.push(chunk) }),
      Effect.provide(Layer.merge(NodeContext.layer, Stdin.layerText(stdin)))
    )
    return { run, captured }
  })

/** `smpp <args>` in process, to its end. */
export const smpp = (args: ReadonlyArray<string>, stdin = "") =>
  Effect.gen(function*() {
    const { captured, run } = yield* smppRun(args, stdin)
    const exit = yield* Effect.exit(run)
    return { exit, stdout: captured.stdout.join("\n"), stderr: captured.stderr.join("\n"), progress: captured.progress.join("") }
  })

/** The id of the n-th accepted message (from 1), as many SMSCs write them. */
export const idOf = (n: number) => String(n).padStart(14, "0")

export const text = (s: string) => new TextEncoder().encode(s)

/** A receipt for `id` as an SMSC sends it: the appendix B text and the TLVs. */
export const receiptPdu = (
  id: string,
  stat: keyof typeof MessageState.MessageState = "DELIVERED",
  to = "Shop",
  from = "4912345678"
) =>
  Pdu.make("deliver_sm", {
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: from,
    destinationAddr: to,
    esmClass: 0x04,
    shortMessage: text(
      DeliveryReceipt.format({
        id,
        sub: "001",
        dlvrd: stat === "DELIVERED" ? "001" : "000",
        stat: MessageState.StatWord[stat],
        err: stat === "DELIVERED" ? "000" : "012",
        text: "hello"
      })
    ),
    tlvs: { receiptedMessageId: id, messageState: MessageState.MessageState[stat] }
  })

export interface Smsc {
  readonly server: SmppServer.SmppServer
  readonly port: number
  /** The submit_sm accepted so far. */
  readonly submitted: Array<Pdu.SubmitSm>
}

/**
 * An SMSC for the Scope: account alice/secret; every submit_sm answered with the next id and,
 * when it asks for one, its receipt pushed right after (`stat` decides the state).
 */
export const smsc = (options?: {
  readonly stat?: (n: number) => keyof typeof MessageState.MessageState
  readonly status?: (n: number) => number
}): Effect.Effect<Smsc, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const submitted: Array<Pdu.SubmitSm> = []
    let self: SmppServer.SmppServer | undefined
    const scope = yield* Effect.scope
    const server = yield* SmppServer.make({
      host: HOST,
      port: 0,
      authenticate: SmppServer.passwords({ [SYSTEM_ID]: PASSWORD }),
      handlers: {
        submit_sm: (pdu, context) =>
          Effect.gen(function*() {
            submitted.push(pdu)
            const n = submitted.length
            const status = options?.status?.(n) ?? CommandStatus.ESME_ROK
            if (status !== CommandStatus.ESME_ROK) return status
            const id = idOf(n)
            if (pdu.registeredDelivery !== 0 && self !== undefined) {
              yield* Effect.forkIn(
                Effect.ignore(self.deliver(context.systemId, receiptPdu(id, options?.stat?.(n) ?? "DELIVERED"))),
                scope
              )
            }
            return Pdu.make("submit_sm_resp", { messageId: id })
          })
      }
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))
    self = server
    return { server, port: server.address!.port, submitted }
  })

/** The connection flags for an SMSC on `port`. */
export const target = (port: number, password = PASSWORD) => [
  "--host",
  HOST,
  "--port",
  String(port),
  "--system-id",
  SYSTEM_ID,
  "--password",
  password
]
