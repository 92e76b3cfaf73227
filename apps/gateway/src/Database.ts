/**
 * The gateway's database: a `SqlClient` from `@effect/sql`. The embedded default is a
 * SQLite file (`@effect/sql-sqlite-node`) in WAL mode, its directory created on start.
 * With a PostgreSQL URL configured (`store.url`, env `DATABASE_URL`), `layerPostgres`
 * (`@effect/sql-pg`) stands in for it: the stores are written against `SqlClient` only
 * (see `Migrations` for the dialects).
 *
 * `@effect/sql-pg` is loaded only when PostgreSQL is configured, so a SQLite gateway does
 * not need it installed.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import type { ConfigError } from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Stream from "effect/Stream"
import { dirname } from "node:path"
import { GatewayConfig } from "./GatewayConfig.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SqliteOptions {
  /** The database file, or `:memory:`. */
  readonly filename: string
  /**
   * `full` syncs the WAL to disk at every commit (a power cut loses nothing committed);
   * `normal` only at checkpoints (faster; a power cut may lose the last commits). Default `full`.
   */
  readonly synchronous?: "full" | "normal" | undefined
}

/**
 * @since 0.1.0
 * @category errors
 */
export class DatabaseError extends Data.TaggedError("DatabaseError")<{
  readonly reason: "CreateDirectoryFailed" | "ConfigureFailed" | "DriverMissing" | "ConnectFailed"
  readonly cause: unknown
  readonly message: string
}> {}

/**
 * PostgreSQL's LISTEN/NOTIFY, for gateways sharing one store: `notify` what was committed,
 * `listen` to what the others committed. Provided by `layerPostgres` only (a SQLite file has
 * one gateway).
 *
 * @since 0.1.0
 * @category services
 */
export class StoreNotifications extends Context.Tag("@effect-smpp/gateway/StoreNotifications")<StoreNotifications, {
  readonly notify: (channel: string, payload: string) => Effect.Effect<void, SqlError>
  readonly listen: (channel: string) => Stream.Stream<string, SqlError>
}>() {}

const isMemory = (filename: string) => filename === ":memory:" || filename === ""

/**
 * A SQLite database on a file (WAL mode; the directory is created), as both `SqlClient`
 * and `SqliteClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSqlite = (
  options: SqliteOptions
): Layer.Layer<SqlClient.SqlClient | SqliteClient.SqliteClient, DatabaseError | ConfigError> => {
  const directory = isMemory(options.filename)
    ? Layer.empty
    : Layer.effectDiscard(
      Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeDirectory(dirname(options.filename), { recursive: true }))
        .pipe(
          Effect.mapError((cause) =>
            new DatabaseError({
              reason: "CreateDirectoryFailed",
              cause,
              message: `cannot create the directory of ${options.filename}: ${cause.message}`
            })
          )
        )
    ).pipe(Layer.provide(NodeFileSystem.layer))
  const configure = Layer.effectDiscard(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`)
      yield* sql.unsafe("PRAGMA busy_timeout = 5000")
    }).pipe(
      Effect.mapError((cause: SqlError) =>
        new DatabaseError({ reason: "ConfigureFailed", cause, message: `cannot configure SQLite: ${cause.message}` })
      )
    )
  )
  const client = SqliteClient.layer({ filename: options.filename })
  return Layer.provideMerge(configure, client).pipe(Layer.provide(directory))
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PostgresOptions {
  /** `postgres://user:password@host:5432/database` (query parameters as `pg` takes them). */
  readonly url: Redacted.Redacted<string>
  /** The pool's size. Default 10. */
  readonly maxConnections?: number | undefined
  /** How long the first connection may take. Default 10 seconds. */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

/**
 * Where a PostgreSQL URL points, without its credentials (for messages and banners).
 *
 * @since 0.1.0
 * @category utils
 */
export const describeUrl = (url: string): string => {
  if (!URL.canParse(url)) return "the configured URL"
  const parsed = new URL(url)
  return `${parsed.hostname || "localhost"}${parsed.port === "" ? "" : `:${parsed.port}`}${parsed.pathname}`
}

const causeMessage = (cause: unknown): string => {
  const inner = typeof cause === "object" && cause !== null && "cause" in cause ? cause.cause : cause
  if (inner instanceof AggregateError && inner.errors.length > 0) return causeMessage(inner.errors[0])
  return inner instanceof Error ? inner.message : String(inner)
}

/**
 * A PostgreSQL database (`@effect/sql-pg`, loaded on first use), as both `SqlClient` and
 * `PgClient`. Fails with `DatabaseError` when the driver is not installed or the first
 * connection fails (the message names host, port and database, never the password).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPostgres = (
  options: PostgresOptions
): Layer.Layer<SqlClient.SqlClient | PgClient.PgClient | StoreNotifications, DatabaseError> => {
  const where = describeUrl(Redacted.value(options.url))
  return Layer.unwrapEffect(
    Effect.tryPromise({
      try: () => import("@effect/sql-pg/PgClient"),
      catch: (cause) =>
        new DatabaseError({
          reason: "DriverMissing",
          cause,
          message: "PostgreSQL is configured but @effect/sql-pg is not installed (npm install @effect/sql-pg)"
        })
    }).pipe(Effect.map((Pg) =>
      Layer.effect(StoreNotifications, Effect.map(Pg.PgClient, (pg) => ({
        // pg_notify rather than the client's `notify`: that one sends `NOTIFY channel, $1`, which
        // PostgreSQL refuses (NOTIFY takes no bind parameters; fixed for Effect 4 only, in
        // Effect-TS/effect-smol#1835).
        notify: (channel, payload) => Effect.asVoid(pg`SELECT pg_notify(${channel}, ${payload})`),
        listen: pg.listen
      }))).pipe(
        Layer.provideMerge(Pg.layer({
          url: options.url,
          maxConnections: options.maxConnections ?? 10,
          connectTimeout: options.connectTimeout ?? Duration.seconds(10),
          applicationName: "effect-smpp-gateway"
        })),
        Layer.catchAll((error) =>
          Layer.fail(
            new DatabaseError({
              reason: "ConnectFailed",
              cause: error,
              message: `cannot connect to PostgreSQL at ${where}: ${causeMessage(error)}`
            })
          )
        )
      )
    ))
  )
}

/**
 * The database of `GatewayConfig`'s `store`: PostgreSQL when `store.url` is set, else the
 * SQLite file `store.filename`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromConfig: Layer.Layer<
  SqlClient.SqlClient,
  DatabaseError | ConfigError,
  GatewayConfig
> = Layer.unwrapEffect(
  Effect.map(GatewayConfig, ({ store }): Layer.Layer<SqlClient.SqlClient, DatabaseError | ConfigError> =>
    store.url === undefined
      ? layerSqlite({ filename: store.filename, synchronous: store.synchronous })
      : layerPostgres({ url: store.url, maxConnections: store.maxConnections }))
)
