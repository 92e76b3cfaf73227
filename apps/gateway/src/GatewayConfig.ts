/**
 * The gateway's configuration: built-in defaults, overridden by an optional JSON file,
 * overridden by environment variables.
 *
 * - File: the path given to `layerFromFile`/`load`, else `GATEWAY_CONFIG`; decoded with the
 *   `ConfigFile` schema (unknown keys are refused, so a misspelt key is reported).
 * - Environment: `SMPP_HOST`, `SMPP_PORT`, `HTTP_HOST`, `HTTP_PORT`, `ADMIN_TOKEN` (the HTTP
 *   admin token), `GATEWAY_DB` (the SQLite file), `DATABASE_URL` (a PostgreSQL URL: the store
 *   is then PostgreSQL).
 * - Defaults: SMPP on 0.0.0.0:2775, HTTP on 0.0.0.0:8080 without an admin token, SQLite
 *   `./data/gateway.db`,
 *   the simulator as default route, and one account: the documented demo account
 *   (`system_id` `demo`, password `demo`) — the only account whose password may be
 *   written in plain text; every other account needs a scrypt hash (`Password.hash`).
 *
 * Durations are written as a number of milliseconds or as text (`"30 seconds"`); statuses
 * as a number or a command_status name (`"ESME_RSUBMITFAIL"`).
 *
 * @example
 * ```json
 * { "smpp": { "port": 2775 },
 *   "accounts": [{ "systemId": "acme", "password": "scrypt$16384$8$1$…$…", "maxThroughput": 50 }],
 *   "routes": [{ "prefix": "49", "connector": "upstream-de" }],
 *   "simulator": { "rules": [{ "prefix": "4915", "outcome": "UNDELIV", "delay": "2 seconds" }] },
 *   "upstreams": [{ "name": "upstream-de", "host": "smsc.example.de", "port": 2775, "systemId": "acme", "password": "secret" }] }
 * ```
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Config from "effect/Config"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Password from "./Password.js"

// ---------------------------------------------------------------------------
// value schemas

/**
 * A duration: milliseconds (a non-negative number) or text such as `"30 seconds"`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DurationValue: Schema.Schema<Duration.Duration, number | string> = Schema.transformOrFail(
  Schema.Union(Schema.Number, Schema.String),
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (input, _, ast) => {
      if (typeof input === "number") {
        return Number.isFinite(input) && input >= 0
          ? ParseResult.succeed(Duration.millis(input))
          : ParseResult.fail(
            new ParseResult.Type(ast, input, `expected a non-negative number of milliseconds, got ${input}`)
          )
      }
      const decoded = Duration.decodeUnknown(input.trim())
      return Option.isSome(decoded) && Duration.toMillis(decoded.value) >= 0
        ? ParseResult.succeed(decoded.value)
        : ParseResult.fail(
          new ParseResult.Type(ast, input, `expected a duration such as "30 seconds" or "500 millis", got "${input}"`)
        )
    },
    encode: (duration) => ParseResult.succeed(Duration.toMillis(duration))
  }
)

/**
 * A command_status: a number or its name (`"ESME_RTHROTTLED"`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const StatusValue: Schema.Schema<number, number | string> = Schema.transformOrFail(
  Schema.Union(Schema.Number, Schema.String),
  Schema.Number,
  {
    strict: true,
    decode: (input, _, ast) => {
      if (typeof input === "number") {
        return Number.isInteger(input) && input >= 0 && input <= 0xffffffff
          ? ParseResult.succeed(input)
          : ParseResult.fail(new ParseResult.Type(ast, input, `expected a command_status 0–0xFFFFFFFF, got ${input}`))
      }
      const value = (CommandStatus as Record<string, number>)[input]
      return value !== undefined
        ? ParseResult.succeed(value)
        : ParseResult.fail(new ParseResult.Type(ast, input, `"${input}" is not a command_status name`))
    },
    encode: (status) => ParseResult.succeed(status)
  }
)

const Port = Schema.Int.pipe(Schema.between(0, 65535, { message: () => "expected a port number 0–65535" }))
const PositiveInt = Schema.Int.pipe(Schema.positive({ message: () => "expected a positive integer" }))
const PositiveNumber = Schema.Number.pipe(
  Schema.positive({ message: () => "expected a positive number" }),
  Schema.finite()
)
const Percent = Schema.Number.pipe(Schema.between(0, 100, { message: () => "expected a percentage 0–100" }))
const NonEmpty = Schema.String.pipe(Schema.minLength(1, { message: () => "expected a non-empty string" }))

// one message for a wrong word, instead of one per literal of a union
const literals = <const L extends ReadonlyArray<string>>(...values: L) => {
  const allowed = new Set<string>(values)
  return Schema.String.pipe(Schema.filter((value): value is L[number] => allowed.has(value), {
    message: (issue) => `expected one of ${values.map((v) => `"${v}"`).join(", ")}, got ${JSON.stringify(issue.actual)}`
  }))
}

const withDefault = <A, I>(schema: Schema.Schema<A, I>, value: () => NoInfer<A>) =>
  Schema.optionalWith(schema, { default: value, exact: true })

// ---------------------------------------------------------------------------
// sections

/**
 * The system_id of the documented demo account, the only one with a plain-text password.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEMO_SYSTEM_ID = "demo"

/**
 * @since 0.1.0
 * @category schemas
 */
export const BindKind = literals("transmitter", "receiver", "transceiver")

/**
 * @since 0.1.0
 * @category models
 */
export type BindKind = typeof BindKind.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const DeliveryPdu = literals("deliver_sm", "data_sm")

/**
 * @since 0.1.0
 * @category models
 */
export type DeliveryPdu = typeof DeliveryPdu.Type

/**
 * One customer account.
 *
 * - `password`: a scrypt hash `scrypt$N$r$p$salt$hash`; plain text only for `demo`.
 * - `bindKinds`: which binds it may make (default all three).
 * - `maxSessions`: concurrent sessions (default 10).
 * - `maxThroughput`: messages per second over all its sessions (default: no limit);
 *   `burst`: how many may come at once (default: one second's worth).
 * - `sourceAddresses`: patterns its source_addr must match, `*` any run of characters,
 *   `?` one character (default `["*"]`).
 * - `deliverWith`: the PDU its receipts and MOs are pushed with, `deliver_sm` (default) or
 *   `data_sm` (the body in message_payload).
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccountSettings = Schema.Struct({
  systemId: NonEmpty.pipe(Schema.maxLength(15, { message: () => "a system_id has at most 15 characters" })),
  password: NonEmpty,
  bindKinds: withDefault(
    Schema.Array(BindKind).pipe(Schema.minItems(1)),
    (): ReadonlyArray<BindKind> => ["transmitter", "receiver", "transceiver"]
  ),
  maxSessions: withDefault(PositiveInt, () => 10),
  maxThroughput: Schema.optionalWith(PositiveNumber, { exact: true }),
  burst: Schema.optionalWith(PositiveInt, { exact: true }),
  sourceAddresses: withDefault(Schema.Array(Schema.String), () => ["*"]),
  deliverWith: withDefault(DeliveryPdu, () => "deliver_sm" as const)
}).pipe(Schema.filter((account) => {
  if (Password.isHash(account.password)) {
    const parsed = Password.parse(account.password)
    return Either.isRight(parsed) || { path: ["password"], message: parsed.left.message }
  }
  if (account.systemId !== DEMO_SYSTEM_ID) {
    return {
      path: ["password"],
      message: `a plain-text password is allowed only for the demo account; ` +
        `give a scrypt hash (scrypt$N$r$p$salt$hash, see Password.hash)`
    }
  }
  return account.password.length <= 8 || { path: ["password"], message: "an SMPP password has at most 8 characters" }
}))

/**
 * @since 0.1.0
 * @category models
 */
export type AccountSettings = typeof AccountSettings.Type

/**
 * A route: destination addresses starting with `prefix` go to `connector`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RouteSettings = Schema.Struct({ prefix: NonEmpty, connector: NonEmpty })

/**
 * @since 0.1.0
 * @category models
 */
export type RouteSettings = typeof RouteSettings.Type

const POSTGRES_URL = /^postgres(?:ql)?:\/\//

/**
 * A PostgreSQL connection URL (`postgres://user:password@host:5432/database`), kept
 * `Redacted` (it usually holds a password; a bad one is reported without its text).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PostgresUrl: Schema.Schema<Redacted.Redacted<string>, string> = Schema.Redacted(
  Schema.String.pipe(Schema.filter((url) => POSTGRES_URL.test(url), {
    message: () => "expected a PostgreSQL URL such as postgres://user:password@host:5432/database"
  }))
)

/**
 * The message store: a SQLite file (the default) or, when `url` is given, PostgreSQL.
 *
 * - `filename`: the SQLite file (`:memory:` for none); `synchronous` is SQLite's durability
 *   setting: `full` (default) syncs each batch to disk.
 * - `url`: a PostgreSQL URL; the store is then PostgreSQL (`filename` and `synchronous` are
 *   not used), with at most `maxConnections` connections (default 10).
 * - Inserts are committed in batches of up to `batchSize`, after waiting `batchWindow` for
 *   more (default 0: whatever arrived while the previous batch committed).
 *
 * @since 0.1.0
 * @category schemas
 */
export const StoreSettings = Schema.Struct({
  filename: withDefault(NonEmpty, () => "./data/gateway.db"),
  url: Schema.optionalWith(PostgresUrl, { exact: true }),
  maxConnections: withDefault(PositiveInt, () => 10),
  batchSize: withDefault(PositiveInt, () => 1000),
  batchWindow: withDefault(DurationValue, () => Duration.zero),
  synchronous: withDefault(
    literals("full", "normal"),
    () => "full" as const
  ),
  idBlockSize: withDefault(PositiveInt, () => 1000)
})

/**
 * @since 0.1.0
 * @category models
 */
export type StoreSettings = typeof StoreSettings.Type

/**
 * The queue of receipts and MO messages toward customers. A failed delivery is retried
 * after `retryBase`, growing by `retryFactor` up to `retryCap` (jittered ±20%); an item
 * not delivered within `ttl` is dropped. `lease` is how long a taken item stays invisible
 * to other takers before it is due again; `sweepInterval` how often expired items are swept.
 * `commitWindow` (default 10 ms) is how long a queue write waits for more to commit with it
 * (acknowledgements arrive one at a time, and each commit is an fsync). Every `checkInterval`
 * (default 5 s) each account with a receiver bound here is checked for queued items: how soon
 * items queued by another gateway sharing the store are delivered.
 * `releaseLeasesOnStart`: on start, make the items leased when the gateway stopped due at
 * once. Default: on with SQLite (one gateway per file), off with PostgreSQL, where several
 * gateways may share the store and one starting must not take the others' deliveries in
 * flight (a crashed gateway's leases then expire after `lease`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const DeliverySettings = Schema.Struct({
  ttl: withDefault(DurationValue, () => Duration.hours(48)),
  retryBase: withDefault(DurationValue, () => Duration.seconds(1)),
  retryFactor: withDefault(Schema.Number.pipe(Schema.greaterThanOrEqualTo(1)), () => 2),
  retryCap: withDefault(DurationValue, () => Duration.seconds(60)),
  lease: withDefault(DurationValue, () => Duration.minutes(2)),
  sweepInterval: withDefault(DurationValue, () => Duration.minutes(1)),
  batchSize: withDefault(PositiveInt, () => 1000),
  commitWindow: withDefault(DurationValue, () => Duration.millis(10)),
  checkInterval: withDefault(DurationValue, () => Duration.seconds(5)),
  releaseLeasesOnStart: Schema.optionalWith(Schema.Boolean, { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type DeliverySettings = typeof DeliverySettings.Type

/**
 * A final outcome the simulator can give, as its receipt `stat:` word.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Outcome = literals("DELIVRD", "UNDELIV", "EXPIRED", "REJECTD")

/**
 * @since 0.1.0
 * @category models
 */
export type Outcome = typeof Outcome.Type

/**
 * An outcome rule: of the messages whose destination starts with `prefix` (any when
 * absent), `percent` (default 100) end with `outcome` after `delay` (default: the
 * simulator's `defaultDelay`), with `errorCode` in the receipt (default 0 for DELIVRD, 1
 * otherwise). Rules are tried in order; the shares of rules matching a destination add up.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutcomeRule = Schema.Struct({
  prefix: Schema.optionalWith(Schema.String, { exact: true }),
  percent: withDefault(Percent, () => 100),
  outcome: Outcome,
  delay: Schema.optionalWith(DurationValue, { exact: true }),
  errorCode: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 999)), { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type OutcomeRule = typeof OutcomeRule.Type

/**
 * A share of submits refused with `status` (of those whose destination starts with `prefix`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SubmitErrorRule = Schema.Struct({
  prefix: Schema.optionalWith(Schema.String, { exact: true }),
  percent: Percent,
  status: StatusValue
})

/**
 * @since 0.1.0
 * @category models
 */
export type SubmitErrorRule = typeof SubmitErrorRule.Type

/**
 * Echo: a message to a destination starting with `prefix` comes back as an MO from that
 * destination to the sender, with the same text, after `delay`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EchoSettings = Schema.Struct({
  prefix: withDefault(Schema.String, () => ""),
  delay: withDefault(DurationValue, () => Duration.seconds(1))
})

/**
 * @since 0.1.0
 * @category models
 */
export type EchoSettings = typeof EchoSettings.Type

/**
 * A scripted MO for `account`: sent `after` the simulator starts, then `every` period if given.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ScriptedMo = Schema.Struct({
  account: NonEmpty,
  sourceAddr: NonEmpty,
  destinationAddr: NonEmpty,
  text: Schema.String,
  dataCoding: withDefault(Schema.Int.pipe(Schema.between(0, 255)), () => 0),
  after: withDefault(DurationValue, () => Duration.zero),
  every: Schema.optionalWith(DurationValue, { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type ScriptedMo = typeof ScriptedMo.Type

/**
 * The simulator connector: outcomes, submit errors, throttling, dropped responses, MOs.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SimulatorSettings = Schema.Struct({
  defaultOutcome: withDefault(Outcome, () => "DELIVRD" as const),
  defaultDelay: withDefault(DurationValue, () => Duration.seconds(1)),
  rules: withDefault(Schema.Array(OutcomeRule), () => []),
  submitErrors: withDefault(Schema.Array(SubmitErrorRule), () => []),
  /** Submits per second the simulator takes; beyond, ESME_RTHROTTLED. Default: no limit. */
  maxThroughput: Schema.optionalWith(PositiveNumber, { exact: true }),
  /** Share of accepted submits whose response is never sent (the message still proceeds). */
  dropResponsePercent: withDefault(Percent, () => 0),
  echo: Schema.optionalWith(EchoSettings, { exact: true }),
  mo: withDefault(Schema.Array(ScriptedMo), () => [])
})

/**
 * @since 0.1.0
 * @category models
 */
export type SimulatorSettings = typeof SimulatorSettings.Type

/**
 * An upstream SMSC the gateway relays to (the `UpstreamSmpp` connector): routes name it by
 * `name`. The gateway binds to it with `systemId`/`password` as `bindKind` (default
 * transceiver: submits and receipts on one session; `transmitter` gets no receipts back),
 * over TLS when `tls`, with up to `window` submits in flight. A submit waits at most
 * `requestTimeout` for a bound session (then it is refused with ESME_RSUBMITFAIL).
 * MO messages the upstream sends go to the account `moAccount`; without one they are
 * acknowledged and dropped (logged).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpstreamSettings = Schema.Struct({
  name: NonEmpty,
  host: NonEmpty,
  port: Port,
  tls: withDefault(Schema.Boolean, () => false),
  systemId: NonEmpty.pipe(Schema.maxLength(15, { message: () => "a system_id has at most 15 characters" })),
  password: Schema.String.pipe(Schema.maxLength(8, { message: () => "an SMPP password has at most 8 characters" })),
  systemType: withDefault(Schema.String, () => ""),
  bindKind: withDefault(BindKind, () => "transceiver" as const),
  window: withDefault(PositiveInt, () => 10),
  requestTimeout: withDefault(DurationValue, () => Duration.seconds(5)),
  moAccount: Schema.optionalWith(NonEmpty, { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type UpstreamSettings = typeof UpstreamSettings.Type

const Listen = (port: number) =>
  Schema.Struct({
    host: withDefault(NonEmpty, () => "0.0.0.0"),
    port: withDefault(Port, () => port)
  })

/**
 * The HTTP API: its address, and the admin token (`Authorization: Bearer …`); without one,
 * the admin-only endpoints refuse every request.
 *
 * @since 0.1.0
 * @category schemas
 */
export const HttpSettings = Schema.Struct({
  host: withDefault(NonEmpty, () => "0.0.0.0"),
  port: withDefault(Port, () => 8080),
  adminToken: Schema.optionalWith(Schema.Redacted(NonEmpty), { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type HttpSettings = typeof HttpSettings.Type

const defaultsOf = <A, I>(schema: Schema.Schema<A, I>): A => Schema.decodeUnknownSync(schema)({})

const DefaultAccounts: ReadonlyArray<AccountSettings> = [
  Schema.decodeUnknownSync(AccountSettings)({ systemId: DEMO_SYSTEM_ID, password: "demo", maxThroughput: 50_000 })
]

/**
 * The JSON file. Every key is optional; `accounts`, when given, replaces the demo account.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigFile = Schema.Struct({
  smpp: withDefault(Listen(2775), () => defaultsOf(Listen(2775))),
  http: withDefault(HttpSettings, () => defaultsOf(HttpSettings)),
  store: withDefault(StoreSettings, () => defaultsOf(StoreSettings)),
  accounts: withDefault(
    Schema.Array(AccountSettings).pipe(Schema.filter((accounts) => {
      const seen = new Set<string>()
      for (let i = 0; i < accounts.length; i++) {
        if (seen.has(accounts[i].systemId)) {
          return { path: [i, "systemId"], message: `duplicate system_id "${accounts[i].systemId}"` }
        }
        seen.add(accounts[i].systemId)
      }
      return true
    })),
    () => DefaultAccounts
  ),
  routes: withDefault(Schema.Array(RouteSettings), () => []),
  defaultConnector: withDefault(NonEmpty, () => "simulator"),
  delivery: withDefault(DeliverySettings, () => defaultsOf(DeliverySettings)),
  simulator: withDefault(SimulatorSettings, () => defaultsOf(SimulatorSettings)),
  upstreams: withDefault(
    Schema.Array(UpstreamSettings).pipe(Schema.filter((upstreams) => {
      const seen = new Set<string>(["simulator"])
      for (let i = 0; i < upstreams.length; i++) {
        if (seen.has(upstreams[i].name)) {
          return { path: [i, "name"], message: `duplicate connector name "${upstreams[i].name}"` }
        }
        seen.add(upstreams[i].name)
      }
      return true
    })),
    (): ReadonlyArray<UpstreamSettings> => []
  )
})

/**
 * The resolved configuration.
 *
 * @since 0.1.0
 * @category models
 */
export type Settings = typeof ConfigFile.Type

// ---------------------------------------------------------------------------
// errors and decoding

/**
 * Why the configuration could not be read. `key` names the offending setting
 * (`accounts[1].password`, `SMPP_PORT`) or, for a file that cannot be read, its path.
 *
 * @since 0.1.0
 * @category errors
 */
export class GatewayConfigError extends Data.TaggedError("GatewayConfigError")<{
  readonly reason: "ReadFailed" | "InvalidJson" | "InvalidValue" | "InvalidEnvironment"
  readonly key: string
  readonly cause?: unknown
  readonly message: string
}> {}

const keyOf = (path: ReadonlyArray<PropertyKey>): string => {
  let key = ""
  for (const part of path) {
    key += typeof part === "number" ? `[${part}]` : key === "" ? String(part) : `.${String(part)}`
  }
  return key === "" ? "(root)" : key
}

/**
 * The defaults, as if an empty file were given.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Settings = defaultsOf(ConfigFile)

/**
 * Decodes a parsed JSON value (an object in the shape of `ConfigFile`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (json: unknown, source = "config"): Either.Either<Settings, GatewayConfigError> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(ConfigFile)(json, { errors: "all", onExcessProperty: "error" }),
    (error) => {
      const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
      const first = issues[0]
      const lines = [...new Set(issues.map((issue) => `${keyOf(issue.path)}: ${issue.message}`))]
      return new GatewayConfigError({
        reason: "InvalidValue",
        key: first === undefined ? "(root)" : keyOf(first.path),
        cause: error,
        message: `${source}: ${lines.join("; ")}`
      })
    }
  )

/**
 * Parses and decodes JSON text.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeJson = (text: string, source = "config"): Either.Either<Settings, GatewayConfigError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    return Either.left(
      new GatewayConfigError({
        reason: "InvalidJson",
        key: source,
        cause,
        message: `${source}: not valid JSON (${cause instanceof Error ? cause.message : String(cause)})`
      })
    )
  }
  return decode(json, source)
}

const env = <A>(key: string, config: Config.Config<A>) =>
  Config.option(config).pipe(
    Effect.mapError((cause) =>
      new GatewayConfigError({
        reason: "InvalidEnvironment",
        key,
        cause,
        message: `${key}: ${"message" in cause && typeof cause.message === "string" ? cause.message : String(cause)}`
      })
    )
  )

/**
 * Applies the environment: `SMPP_HOST`, `SMPP_PORT`, `HTTP_HOST`, `HTTP_PORT`, `ADMIN_TOKEN`
 * (empty: not set), `GATEWAY_DB`, `DATABASE_URL`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const applyEnvironment = (settings: Settings): Effect.Effect<Settings, GatewayConfigError> =>
  Effect.gen(function*() {
    const smppHost = yield* env("SMPP_HOST", Config.nonEmptyString("SMPP_HOST"))
    const smppPort = yield* env("SMPP_PORT", Config.port("SMPP_PORT"))
    const httpHost = yield* env("HTTP_HOST", Config.nonEmptyString("HTTP_HOST"))
    const httpPort = yield* env("HTTP_PORT", Config.port("HTTP_PORT"))
    const adminToken = Option.filter(
      yield* env("ADMIN_TOKEN", Config.redacted("ADMIN_TOKEN")),
      (token) => Redacted.value(token) !== ""
    )
    const db = yield* env("GATEWAY_DB", Config.nonEmptyString("GATEWAY_DB"))
    const url = yield* env("DATABASE_URL", Config.redacted("DATABASE_URL"))
    let databaseUrl: Option.Option<Redacted.Redacted<string>> = Option.none()
    if (Option.isSome(url)) {
      const decoded = Schema.decodeEither(PostgresUrl)(Redacted.value(url.value))
      if (Either.isLeft(decoded)) {
        return yield* new GatewayConfigError({
          reason: "InvalidEnvironment",
          key: "DATABASE_URL",
          cause: decoded.left,
          message: "DATABASE_URL: expected a PostgreSQL URL such as postgres://user:password@host:5432/database"
        })
      }
      databaseUrl = Option.some(decoded.right)
    }
    const http: HttpSettings = {
      host: Option.getOrElse(httpHost, () => settings.http.host),
      port: Option.getOrElse(httpPort, () => settings.http.port),
      ...Option.match(Option.orElse(adminToken, () => Option.fromNullable(settings.http.adminToken)), {
        onNone: () => ({}),
        onSome: (token) => ({ adminToken: token })
      })
    }
    const store: StoreSettings = {
      ...settings.store,
      filename: Option.getOrElse(db, () => settings.store.filename),
      ...Option.match(databaseUrl, { onNone: () => ({}), onSome: (url) => ({ url }) })
    }
    return {
      ...settings,
      smpp: {
        host: Option.getOrElse(smppHost, () => settings.smpp.host),
        port: Option.getOrElse(smppPort, () => settings.smpp.port)
      },
      http,
      store
    }
  })

/**
 * @since 0.1.0
 * @category models
 */
export interface LoadOptions {
  /** The JSON file; default `GATEWAY_CONFIG`, else none (defaults and environment only). */
  readonly path?: string | undefined
}

/**
 * Reads the configuration: defaults ← file ← environment.
 *
 * @since 0.1.0
 * @category constructors
 */
export const load = (
  options?: LoadOptions
): Effect.Effect<Settings, GatewayConfigError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fromEnv = yield* env("GATEWAY_CONFIG", Config.nonEmptyString("GATEWAY_CONFIG"))
    const path = options?.path ?? Option.getOrUndefined(fromEnv)
    let settings = defaults
    if (path !== undefined) {
      const fs = yield* FileSystem.FileSystem
      const text = yield* fs.readFileString(path).pipe(
        Effect.mapError((cause) =>
          new GatewayConfigError({
            reason: "ReadFailed",
            key: path,
            cause,
            message: `cannot read the config file ${path}: ${cause.message}`
          })
        )
      )
      settings = yield* decodeJson(text, path)
    }
    return yield* applyEnvironment(settings)
  })

/**
 * The configuration as a service. `Default` reads `GATEWAY_CONFIG` (if set) and the
 * environment; `layer`/`layerFromFile` give it explicitly.
 *
 * @since 0.1.0
 * @category services
 */
export class GatewayConfig extends Effect.Service<GatewayConfig>()("@effect-smpp/gateway/GatewayConfig", {
  effect: load(),
  dependencies: [NodeFileSystem.layer]
}) {}

/**
 * The service from settings in hand (tests, embedding).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (settings: Settings): Layer.Layer<GatewayConfig> =>
  Layer.succeed(GatewayConfig, GatewayConfig.make(settings))

/**
 * The service from a JSON file (then the environment).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromFile = (path: string): Layer.Layer<GatewayConfig, GatewayConfigError> =>
  Layer.effect(GatewayConfig, Effect.map(load({ path }), GatewayConfig.make)).pipe(
    Layer.provide(NodeFileSystem.layer)
  )

/**
 * The defaults, without reading the file system or the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const Test: Layer.Layer<GatewayConfig> = layer(defaults)
