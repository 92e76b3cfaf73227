/**
 * What `smpp send`, `smpp listen` and `smpp bench` share: the options that say which SMSC to
 * bind to (with `SMPP_HOST` / `SMPP_PORT` / `SMPP_SYSTEM_ID` / `SMPP_PASSWORD` as fallbacks),
 * the checks of their values, the client started from them, and the errors they print.
 *
 * @since 0.1.0
 */
import type * as BindState from "@effect-smpp/runtime/BindState"
import * as Resend from "@effect-smpp/runtime/Resend"
import * as SmppClient from "@effect-smpp/runtime/SmppClient"
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { statusLabel } from "./PduCommand.js"

/**
 * Why a client command failed; `message` is what it prints after `smpp <command>: `.
 *
 * - `Connect`: no connection (refused, unreachable, TLS);
 * - `Bind`: the bind was refused (`status`) or got no answer;
 * - `Submit`: the SMSC refused a message (`status`) or did not answer it;
 * - `Timeout`: `--timeout` ran out;
 * - `NotDelivered`: a receipt came back with another state than DELIVRD;
 * - `Input`: the message could not be built (text not encodable, too long, …).
 *
 * @since 0.1.0
 * @category errors
 */
export class ClientCommandError extends Data.TaggedError("ClientCommandError")<{
  readonly reason: "Connect" | "Bind" | "Submit" | "Timeout" | "NotDelivered" | "Input"
  readonly detail: string
  readonly status?: number | undefined
}> {
  override get message(): string {
    return this.detail
  }
}

// ---------------------------------------------------------------------------------------------
// options

const some = <A>(a: A): Option.Option<A> => Option.some(a)

/** An integer option checked to lie in [min, max]. */
const bounded = (self: Options.Options<number>, min: number, max: number, message: string) =>
  Options.filterMap(self, (n) => (Number.isInteger(n) && n >= min && n <= max ? some(n) : Option.none()), message)

/** A text option of at most `max` characters (a C-Octet String of max + 1 octets), non-empty unless `empty`. */
const cstring = (self: Options.Options<string>, name: string, max: number, empty = false) =>
  Options.filterMap(
    self,
    (s) => (s.length <= max && (empty || s.length > 0) && !s.includes("\0") ? some(s) : Option.none()),
    empty ? `${name} must be at most ${max} characters` : `${name} must be 1 to ${max} characters`
  )

/**
 * `--host` (default `localhost`, else `SMPP_HOST`).
 *
 * @since 0.1.0
 * @category options
 */
export const host: Options.Options<string> = Options.text("host").pipe(
  Options.withDescription("the SMSC's host name or address (default: SMPP_HOST, else localhost)"),
  Options.withFallbackConfig(Config.string("SMPP_HOST")),
  Options.withDefault("localhost"),
  Options.filterMap((h) => (h.trim().length > 0 ? some(h.trim()) : Option.none()), "--host must not be empty")
)

/**
 * `--port` (default 2775, else `SMPP_PORT`), 1 to 65535.
 *
 * @since 0.1.0
 * @category options
 */
export const port: Options.Options<number> = Options.integer("port").pipe(
  Options.withDescription("the SMSC's port (default: SMPP_PORT, else 2775)"),
  Options.withFallbackConfig(Config.integer("SMPP_PORT")),
  Options.withDefault(2775),
  (self) => bounded(self, 1, 65535, "--port (or SMPP_PORT) must be an integer from 1 to 65535")
)

/**
 * `--system-id` (else `SMPP_SYSTEM_ID`): 1 to 15 characters.
 *
 * @since 0.1.0
 * @category options
 */
export const systemId: Options.Options<string> = Options.text("system-id").pipe(
  Options.withDescription("the account to bind as (default: SMPP_SYSTEM_ID)"),
  Options.withFallbackConfig(Config.string("SMPP_SYSTEM_ID")),
  (self) => cstring(self, "--system-id (or SMPP_SYSTEM_ID)", 15)
)

/**
 * `--password` (else `SMPP_PASSWORD`): at most 8 characters.
 *
 * @since 0.1.0
 * @category options
 */
export const password: Options.Options<string> = Options.text("password").pipe(
  Options.withDescription("the account's password (default: SMPP_PASSWORD)"),
  Options.withFallbackConfig(Config.string("SMPP_PASSWORD")),
  (self) => cstring(self, "--password (or SMPP_PASSWORD)", 8, true)
)

/**
 * `--tls`: connect over TLS (the SMSC's certificate is verified).
 *
 * @since 0.1.0
 * @category options
 */
export const tls: Options.Options<boolean> = Options.boolean("tls").pipe(
  Options.withDescription("connect over TLS (the certificate is verified; NODE_EXTRA_CA_CERTS adds a CA)")
)

/**
 * `--verbose`: the client's logs on standard error.
 *
 * @since 0.1.0
 * @category options
 */
export const verbose: Options.Options<boolean> = Options.boolean("verbose").pipe(
  Options.withDescription("log the client's connection events on standard error")
)

/**
 * An address option (`--from` / `--to`): 1 to 20 characters.
 *
 * @since 0.1.0
 * @category options
 */
export const address = (name: string, description: string): Options.Options<string> =>
  cstring(Options.text(name).pipe(Options.withDescription(description)), `--${name}`, 20)

/**
 * An integer option with a default, checked to lie in [min, max].
 *
 * @since 0.1.0
 * @category options
 */
export const integer = (
  name: string,
  description: string,
  fallback: number,
  min: number,
  max: number
): Options.Options<number> =>
  bounded(
    Options.integer(name).pipe(Options.withDescription(description), Options.withDefault(fallback)),
    min,
    max,
    `--${name} must be an integer from ${min} to ${max}`
  )

/**
 * `--timeout SECONDS` with its default, more than 0.
 *
 * @since 0.1.0
 * @category options
 */
export const timeout = (description: string, fallback: number): Options.Options<number> =>
  Options.float("timeout").pipe(
    Options.withDescription(description),
    Options.withDefault(fallback),
    Options.filterMap((s) => (s > 0 && s <= 86_400 ? some(s) : Option.none()), "--timeout must be more than 0 and at most 86400 seconds")
  )

/**
 * Where and as whom to bind.
 *
 * @since 0.1.0
 * @category models
 */
export interface Target {
  readonly host: string
  readonly port: number
  readonly systemId: string
  readonly password: string
  readonly tls: boolean
  readonly verbose: boolean
}

/**
 * The options of {@link Target}.
 *
 * @since 0.1.0
 * @category options
 */
export const target: Options.Options<Target> = Options.all({ host, port, systemId, password, tls, verbose })

// ---------------------------------------------------------------------------------------------
// the client

/**
 * Reconnects only once a session has been bound: the first connection or bind failing is
 * the command's failure (a wrong password is not retried), a session lost later is
 * reconnected with backoff, forever.
 *
 * @since 0.1.0
 * @category constructors
 */
export const reconnectOnceBound = (): Schedule.Schedule<unknown, SmppClient.ConnectionError> => {
  let lost = false
  return Schedule.whileInput(
    Resend.backoff({ base: "1 second", factor: 2, cap: "30 seconds" }),
    (error: SmppClient.ConnectionError) => {
      if (error.reason === "ConnectionLost") lost = true
      return lost
    }
  )
}

const causeMessage = (cause: unknown): string =>
  cause instanceof Error || (typeof cause === "object" && cause !== null && "message" in cause)
    ? String((cause as { readonly message: unknown }).message)
    : String(cause)

/**
 * Why a client did not bind, as a command error.
 *
 * @since 0.1.0
 * @category errors
 */
export const bindError = (target: Target, error: SmppClient.NotBound): ClientCommandError => {
  const where = `${target.host}:${target.port}`
  const cause = error.cause
  if (cause instanceof SmppClient.ConnectionError) {
    switch (cause.reason) {
      case "BindRefused":
        return new ClientCommandError({
          reason: "Bind",
          status: cause.status,
          detail: `${where} refused the bind as "${target.systemId}": ${statusLabel(cause.status ?? 0)}`
        })
      case "ConnectFailed":
        return new ClientCommandError({ reason: "Connect", detail: causeMessage(cause.cause) })
      default:
        return new ClientCommandError({ reason: "Bind", detail: `${where}: ${cause.message}` })
    }
  }
  return new ClientCommandError({ reason: "Bind", detail: `${where}: ${error.message}` })
}

/**
 * Starts a client bound to `target` as `kind`, for the Scope, and waits for the bind:
 * fails with the reason when the first connection or bind fails (see
 * {@link reconnectOnceBound}). The client unbinds when the Scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bind = (
  target: Target,
  kind: BindState.BindKind,
  config?: Partial<SmppClient.Config>
): Effect.Effect<SmppClient.SmppClient, ClientCommandError, Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* SmppClient.make({
      host: target.host,
      port: target.port,
      tls: target.tls,
      systemId: target.systemId,
      password: target.password,
      bindKind: kind,
      reconnect: reconnectOnceBound(),
      ...config,
      session: { responseTimeout: "10 seconds", drainTimeout: "5 seconds", ...config?.session }
    }).pipe(Effect.mapError((error) => new ClientCommandError({ reason: "Connect", detail: error.message })))
    yield* Effect.mapError(client.awaitBound, (error) => bindError(target, error))
    return client
  })

/**
 * Runs a command's effect with the client's logs on standard error when `verbose` (from
 * Info up), else with none: the command prints what matters itself.
 *
 * @since 0.1.0
 * @category utils
 */
export const withLogs = (verbose: boolean) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  verbose
    ? self.pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
      Logger.withMinimumLogLevel(LogLevel.Info)
    )
    : Logger.withMinimumLogLevel(self, LogLevel.None)

/**
 * Prints a failure as `smpp <command>: <message>` on standard error, and fails with it
 * (exit code 1).
 *
 * @since 0.1.0
 * @category utils
 */
export const reportFailure = (command: string) => <A, R>(
  self: Effect.Effect<A, ClientCommandError, R>
): Effect.Effect<A, ClientCommandError, R> =>
  Effect.tapError(self, (error) => Console.error(`smpp ${command}: ${error.message}`))
