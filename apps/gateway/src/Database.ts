/**
 * The gateway's database: a `SqlClient` from `@effect/sql`. The embedded default is a
 * SQLite file (`@effect/sql-sqlite-node`) in WAL mode, its directory created on start;
 * the stores are written against `SqlClient` only, so a PostgreSQL client layer
 * (`@effect/sql-pg`) can stand in for `layerSqlite` (see `Migrations` for the dialects).
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import type { ConfigError } from "effect/ConfigError"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
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
  readonly reason: "CreateDirectoryFailed" | "ConfigureFailed"
  readonly cause: unknown
  readonly message: string
}> {}

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
 * `layerSqlite` with the store settings of `GatewayConfig`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromConfig: Layer.Layer<
  SqlClient.SqlClient | SqliteClient.SqliteClient,
  DatabaseError | ConfigError,
  GatewayConfig
> = Layer.unwrapEffect(
  Effect.map(GatewayConfig, (config) =>
    layerSqlite({ filename: config.store.filename, synchronous: config.store.synchronous }))
)
