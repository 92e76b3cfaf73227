/**
 * `smpp send`: binds (transmitter, or transceiver with `--dlr`), submits one message — the
 * data_coding chosen and long text split for you — and prints the message id of every part
 * (`id 00000000000001`). With `--dlr` it waits for the receipt of every part and prints its
 * final state instead (`id 00000000000001 DELIVRD`). Exits 1 when the bind or the submit is
 * refused, `--timeout` runs out, or a receipt says anything but DELIVRD.
 *
 * It works with any SMSC: receipts are matched to the message ids also when the SMSC writes
 * them in another letter case, with leading zeros, or in the other base (hex ↔ decimal).
 * Deliveries that are not receipts of this message are refused (ESME_RX_T_APPN), so that the
 * SMSC keeps them for their owner.
 *
 * @since 0.1.0
 */
import * as MessageState from "@effect-smpp/schema/MessageState"
import type * as Segmentation from "@effect-smpp/schema/Segmentation"
import type * as SmppClient from "@effect-smpp/runtime/SmppClient"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Connection from "./Connection.js"
import { ClientCommandError } from "./Connection.js"
import { statusLabel } from "./PduCommand.js"
import { Stdin } from "./Stdin.js"

/**
 * `--encoding`: `auto` picks GSM 03.38 when the text fits it, else UCS-2.
 *
 * @since 0.1.0
 * @category models
 */
export type Encoding = "auto" | "gsm" | "latin1" | "ucs2"

/**
 * The data_coding of an `--encoding` (`undefined`: chosen from the text).
 *
 * @since 0.1.0
 * @category utils
 */
export const dataCodingOf = (encoding: Encoding): number | undefined =>
  encoding === "gsm" ? 0x00 : encoding === "latin1" ? 0x03 : encoding === "ucs2" ? 0x08 : undefined

/**
 * @since 0.1.0
 * @category models
 */
export interface SendOptions extends Connection.Target {
  readonly from: string
  readonly to: string
  /** The text; `-` reads it from standard input. */
  readonly text: string
  readonly dlr: boolean
  /** Seconds the whole command may take: bind, submit and, with `dlr`, the receipts. */
  readonly timeout: number
  readonly encoding: Encoding
  readonly split: Segmentation.Method
}

// ---------------------------------------------------------------------------------------------
// receipts

const ZEROS = /^0+(?=.)/
const DECIMAL = /^[0-9]+$/
const HEX = /^[0-9a-f]+$/

/**
 * Whether a receipt's message id names the same message as a submit_sm_resp's: equal, or
 * equal once letter case and leading zeros are ignored, or the same number written in hex by
 * one and in decimal by the other (SMSCs differ on all three).
 *
 * @since 0.1.0
 * @category utils
 */
export const sameMessageId = (submitted: string, receipted: string): boolean => {
  if (submitted === receipted) return true
  const a = submitted.trim().toLowerCase().replace(ZEROS, "")
  const b = receipted.trim().toLowerCase().replace(ZEROS, "")
  if (a === b) return a.length > 0
  if (a.length === 0 || b.length === 0 || a.length > 64 || b.length > 64) return false
  const aDecimal = DECIMAL.test(a)
  const bDecimal = DECIMAL.test(b)
  // One in hex, the other in decimal, in either direction.
  if (HEX.test(a) && bDecimal) return BigInt("0x" + a) === BigInt(b)
  if (aDecimal && HEX.test(b)) return BigInt(a) === BigInt("0x" + b)
  return false
}

/**
 * Whether a receipt is the final word on its message: not an intermediate notification
 * (esm_class 0x20) and not ENROUTE.
 *
 * @since 0.1.0
 * @category utils
 */
export const isFinal = (receipt: SmppClient.Receipt): boolean =>
  (receipt.pdu.esmClass & 0x3c) !== 0x20 && receipt.state !== MessageState.MessageState.ENROUTE

/**
 * Whether a receipt says the message was delivered.
 *
 * @since 0.1.0
 * @category utils
 */
export const isDelivered = (receipt: SmppClient.Receipt): boolean =>
  receipt.state === MessageState.MessageState.DELIVERED

/**
 * The `stat:` word of a receipt: as received, else the word of its message_state, else
 * `UNKNOWN`.
 *
 * @since 0.1.0
 * @category utils
 */
export const statOf = (receipt: SmppClient.Receipt): string =>
  receipt.stat ?? (receipt.state === undefined ? undefined : MessageState.toStatWord(receipt.state)) ?? "UNKNOWN"

/**
 * The line printed for a part's final receipt: `id <id> <STAT>`, with ` err:<err>` when it
 * was not delivered and the receipt says why.
 *
 * @since 0.1.0
 * @category utils
 */
export const receiptLine = (messageId: string, receipt: SmppClient.Receipt): string => {
  const err = !isDelivered(receipt) && receipt.error !== undefined ? ` err:${receipt.error}` : ""
  return `id ${messageId} ${statOf(receipt)}${err}`
}

// ---------------------------------------------------------------------------------------------
// sending

const submitError = (error: SmppClient.SubmitError): ClientCommandError => {
  const which = error.parts > 1 ? ` (part ${error.part + 1} of ${error.parts})` : ""
  const accepted = error.messageIds.filter((id): id is string => id !== undefined)
  const also = accepted.length > 0 ? `; parts accepted: ${accepted.join(", ")}` : ""
  switch (error.reason) {
    case "Rejected":
      return new ClientCommandError({
        reason: "Submit",
        status: error.status,
        detail: `the SMSC refused the message${which}: ${statusLabel(error.status ?? 0)}${also}`
      })
    case "NoResponse":
      return new ClientCommandError({ reason: "Submit", detail: `no response to the message${which}${also}` })
    case "NotBound":
      return new ClientCommandError({ reason: "Submit", detail: `the session was lost before the message went out${also}` })
    case "InvalidMessage":
      return new ClientCommandError({ reason: "Input", detail: error.message })
  }
}

const readText = (text: string) =>
  text === "-"
    ? Effect.flatMap(Stdin, (stdin) => stdin.readAll).pipe(
      Effect.map((all) => all.replace(/\r?\n$/, "")),
      Effect.mapError((error) => new ClientCommandError({ reason: "Input", detail: error.message }))
    )
    : Effect.succeed(text)

/**
 * Runs `smpp send` with parsed options: prints the ids (and final states) on standard output,
 * and fails after printing why on standard error.
 *
 * @since 0.1.0
 * @category running
 */
export const send = (options: SendOptions): Effect.Effect<void, ClientCommandError, Stdin> => {
  // What is known so far, for the timeout's message.
  let messageIds: ReadonlyArray<string> = []
  const finals = new Map<number, SmppClient.Receipt>()
  let phase: "bind" | "submit" | "receipts" = "bind"

  const run = Effect.gen(function*() {
    const text = yield* readText(options.text)
    if (text.length === 0) return yield* new ClientCommandError({ reason: "Input", detail: "--text must not be empty" })
    const idsKnown = yield* Deferred.make<ReadonlyArray<string>>()
    const receipts = yield* Queue.unbounded<SmppClient.Receipt>()
    const ours = (receipt: SmppClient.Receipt, ids: ReadonlyArray<string>) =>
      ids.some((id) => sameMessageId(id, receipt.messageId))
    // A receipt may come before the submit_sm_resp is handled here: it waits for the ids.
    const onDelivery = (delivery: SmppClient.Delivery) =>
      delivery._tag !== "Receipt"
        ? Effect.fail("not a receipt of this message")
        : Effect.flatMap(Deferred.await(idsKnown), (ids) =>
          ours(delivery, ids) ? Queue.offer(receipts, delivery) : Effect.fail("not a receipt of this message"))

    const client = yield* Connection.bind(options, options.dlr ? "transceiver" : "transmitter", {
      name: "smpp-send",
      requestTimeout: Duration.seconds(options.timeout),
      ...(options.dlr ? { onDelivery } : {})
    })
    phase = "submit"
    const submitted = yield* client.submit({
      from: options.from,
      to: options.to,
      text,
      dataCoding: dataCodingOf(options.encoding),
      splitting: options.split,
      registeredDelivery: options.dlr
    }).pipe(
      Effect.tapError(() => Deferred.succeed(idsKnown, [])),
      Effect.mapError(submitError)
    )
    messageIds = submitted.messageIds
    yield* Deferred.succeed(idsKnown, messageIds)
    if (!options.dlr) {
      for (const id of messageIds) yield* Console.log(`id ${id}`)
      return
    }
    phase = "receipts"
    const parts = messageIds.length
    yield* Console.error(`waiting for ${parts === 1 ? "the receipt" : `the receipts of ${parts} parts`}…`)
    while (finals.size < parts) {
      const receipt = yield* Queue.take(receipts)
      const part = messageIds.findIndex((id, i) => !finals.has(i) && sameMessageId(id, receipt.messageId))
      if (part < 0) continue // a repeated receipt
      if (!isFinal(receipt)) {
        yield* Console.error(`id ${messageIds[part]} ${statOf(receipt)} (not final yet)`)
        continue
      }
      finals.set(part, receipt)
      yield* Console.log(receiptLine(messageIds[part]!, receipt))
    }
    const failed = messageIds.flatMap((id, i) => (isDelivered(finals.get(i)!) ? [] : [`${id} ${statOf(finals.get(i)!)}`]))
    if (failed.length > 0) {
      return yield* new ClientCommandError({ reason: "NotDelivered", detail: `not delivered: ${failed.join(", ")}` })
    }
  })

  const timedOut = () => {
    const waitingFor = phase === "bind"
      ? "the bind"
      : phase === "submit"
      ? "the submit_sm_resp"
      : `the receipt of ${messageIds.filter((_, i) => !finals.has(i)).join(", ")}`
    return new ClientCommandError({
      reason: "Timeout",
      detail: `timed out after ${options.timeout} s waiting for ${waitingFor}`
    })
  }

  return run.pipe(
    Effect.timeoutFail({ duration: Duration.seconds(options.timeout), onTimeout: timedOut }),
    Effect.scoped,
    Connection.withLogs(options.verbose),
    Connection.reportFailure("send")
  )
}

// ---------------------------------------------------------------------------------------------
// the command

const options = {
  target: Connection.target,
  from: Connection.address("from", "the sender (source_addr): digits with an optional + (international), or alphanumeric"),
  to: Connection.address("to", "the recipient (destination_addr): digits with an optional + (international)"),
  text: Options.text("text").pipe(Options.withDescription("the message; - reads it from standard input")),
  dlr: Options.boolean("dlr").pipe(
    Options.withDescription("ask for delivery receipts (bind as transceiver) and wait for them")
  ),
  timeout: Connection.timeout("seconds the command may take in all, receipts included", 60),
  encoding: Options.choice("encoding", ["auto", "gsm", "latin1", "ucs2"]).pipe(
    Options.withDescription("the data_coding: auto (GSM 03.38 if the text fits, else UCS-2), gsm (0), latin1 (3), ucs2 (8)"),
    Options.withDefault("auto" as const)
  ),
  split: Options.choice("split", ["udh8", "udh16", "sar", "payload"]).pipe(
    Options.withDescription("how the parts of long text are tied: udh8, udh16, sar (TLVs), or payload (one message_payload)"),
    Options.withDefault("udh8" as const)
  )
}

/**
 * `smpp send`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "send",
  options,
  ({ target, ...rest }) => send({ ...target, ...rest })
).pipe(Command.withDescription("Bind, send one message (encoded and split for you) and print its ids; --dlr waits for the receipts"))
