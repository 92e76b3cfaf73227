/**
 * `smpp pdu decode <hex>` and `smpp pdu encode <json>`: one PDU between its wire bytes
 * (hex) and its JSON form (`@effect-smpp/schema/PduJson`).
 *
 * @since 0.1.0
 */
import * as Codec from "@effect-smpp/schema/Codec"
import * as CommandStatus from "@effect-smpp/schema/CommandStatus"
import * as PduJson from "@effect-smpp/schema/PduJson"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { Stdin } from "./Stdin.js"

/**
 * Why `smpp pdu` could not do its work.
 *
 * @since 0.1.0
 * @category errors
 */
export class PduCommandError extends Data.TaggedError("PduCommandError")<{
  readonly reason: "InvalidHex" | "InvalidPdu" | "InvalidJson" | "NotEncodable"
  readonly detail: string
  /** The command_status a peer sending such bytes is answered with, for decoding errors. */
  readonly status: number | undefined
}> {
  override get message(): string {
    return this.detail
  }
}

/**
 * A command_status as `NAME (0x00000002)`, or the hex alone when it has no name.
 *
 * @since 0.1.0
 * @category utils
 */
export const statusLabel = (status: number): string => {
  const hex = `0x${(status >>> 0).toString(16).padStart(8, "0")}`
  const name = CommandStatus.nameOf(status)
  return name === undefined ? hex : `${name} (${hex})`
}

/**
 * What `smpp pdu` prints on standard error for an error.
 *
 * @since 0.1.0
 * @category utils
 */
export const renderError = (error: PduCommandError): string =>
  error.status === undefined
    ? `error: ${error.detail}`
    : `error: ${error.detail}\ncommand_status: ${statusLabel(error.status)}`

/**
 * The PDU in hex (whitespace and a `0x` prefix allowed) as pretty-printed JSON.
 *
 * @since 0.1.0
 * @category conversions
 */
export const decodeHex = (input: string): Either.Either<string, PduCommandError> => {
  const hex = input.replace(/\s+/g, "").replace(/^0x/i, "")
  const bytes = PduJson.bytesFromHex(hex)
  if (Either.isLeft(bytes)) {
    // Text that is not whole octets cannot hold a valid command_length: a session
    // receiving it would answer as for a bad length.
    return Either.left(
      new PduCommandError({
        reason: "InvalidHex",
        detail: `not hex octets: ${bytes.left.detail}`,
        status: CommandStatus.CommandStatus.ESME_RINVCMDLEN
      })
    )
  }
  return Either.match(Codec.decode(bytes.right), {
    onLeft: (error) => Either.left(new PduCommandError({ reason: "InvalidPdu", detail: error.message, status: error.status })),
    onRight: (pdu) => Either.right(JSON.stringify(PduJson.toJson(pdu), null, 2))
  })
}

/**
 * The PDU in its JSON form as lowercase hex: the inverse of `decodeHex`.
 *
 * @since 0.1.0
 * @category conversions
 */
export const encodeJson = (input: string): Either.Either<string, PduCommandError> => {
  let json: unknown
  try {
    json = JSON.parse(input)
  } catch (e) {
    const detail = `not JSON: ${e instanceof Error ? e.message : String(e)}`
    return Either.left(new PduCommandError({ reason: "InvalidJson", detail, status: undefined }))
  }
  return PduJson.fromJson(json).pipe(
    Either.mapLeft((error) => new PduCommandError({ reason: "InvalidJson", detail: error.message, status: undefined })),
    Either.flatMap((pdu) =>
      Codec.encodeEither(pdu).pipe(
        Either.mapLeft((error) => new PduCommandError({ reason: "NotEncodable", detail: error.message, status: undefined }))
      )
    ),
    Either.map(PduJson.hexFromBytes)
  )
}

/** Prints the result to stdout, or the error to stderr and fails (exit code 1). */
const report = (result: Either.Either<string, PduCommandError>) =>
  Either.match(result, {
    onLeft: (error) => Effect.zipRight(Console.error(renderError(error)), Effect.fail(error)),
    onRight: (output) => Console.log(output)
  })

/** The argument itself, or standard input for `-`. */
const textOf = (arg: string) => arg === "-" ? Effect.flatMap(Stdin, (stdin) => stdin.readAll) : Effect.succeed(arg)

const hexArg = Args.text({ name: "hex" }).pipe(
  Args.withDescription("the PDU in hex, whitespace and a 0x prefix allowed (several arguments are joined); - reads stdin"),
  Args.atLeast(1)
)

const decode = Command.make("decode", { hex: hexArg }, ({ hex }) =>
  Effect.map(
    hex.length === 1 ? textOf(hex[0]) : Effect.succeed(hex.map((part) => part.trim().replace(/^0x/i, "")).join("")),
    decodeHex
  ).pipe(Effect.flatMap(report))).pipe(
    Command.withDescription("Decode one PDU from hex and print it as JSON")
  )

const encode = Command.make(
  "encode",
  { json: Args.text({ name: "json" }).pipe(Args.withDescription("the PDU as JSON; - reads stdin")) },
  ({ json }) => textOf(json).pipe(Effect.map(encodeJson), Effect.flatMap(report))
).pipe(Command.withDescription("Encode one PDU from its JSON form and print it as hex"))

/**
 * `smpp pdu`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("pdu").pipe(
  Command.withDescription("Convert one PDU between hex and JSON"),
  Command.withSubcommands([decode, encode])
)
