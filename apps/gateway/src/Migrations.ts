/**
 * The gateway's tables, as versioned migrations run by `@effect/sql`'s `Migrator` (table
 * `gateway_migrations`). Written for SQLite and PostgreSQL: only the column types of 64-bit
 * integers, octets and the queue's serial key differ.
 *
 * - `messages`: every accepted message, its state and its receipt's fate.
 * - `gateway_sequences`: blocks of message ids are reserved here, so an id is never given twice.
 * - `delivery_queue`: receipts and MO messages waiting for a customer's `deliver_sm_resp`.
 * - partial indexes for the start-up recovery (messages en route, receipts never queued).
 *
 * @since 0.1.0
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"

const types = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({
    pg: () => ({ int64: "BIGINT", bytes: "BYTEA", serial: "BIGSERIAL PRIMARY KEY" }),
    orElse: () => ({ int64: "INTEGER", bytes: "BLOB", serial: "INTEGER PRIMARY KEY AUTOINCREMENT" })
  })

const initial = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const t = types(sql)
  yield* sql.unsafe(`CREATE TABLE messages (
  id TEXT PRIMARY KEY NOT NULL,
  account TEXT NOT NULL,
  service_type TEXT NOT NULL,
  source_addr_ton INTEGER NOT NULL,
  source_addr_npi INTEGER NOT NULL,
  source_addr TEXT NOT NULL,
  dest_addr_ton INTEGER NOT NULL,
  dest_addr_npi INTEGER NOT NULL,
  destination_addr TEXT NOT NULL,
  esm_class INTEGER NOT NULL,
  protocol_id INTEGER NOT NULL,
  priority_flag INTEGER NOT NULL,
  data_coding INTEGER NOT NULL,
  body ${t.bytes} NOT NULL,
  registered_delivery INTEGER NOT NULL,
  schedule_delivery_time ${t.int64},
  validity_period ${t.int64},
  state INTEGER NOT NULL,
  error_code INTEGER NOT NULL,
  connector TEXT,
  upstream_id TEXT,
  receipt TEXT,
  created_at ${t.int64} NOT NULL,
  updated_at ${t.int64} NOT NULL,
  done_at ${t.int64}
)`)
  yield* sql.unsafe(`CREATE INDEX messages_account ON messages (account, created_at)`)
  yield* sql.unsafe(`CREATE INDEX messages_upstream ON messages (connector, upstream_id)`)
  // partial indexes: only messages still on their way are looked at by these queries
  yield* sql.unsafe(
    `CREATE INDEX messages_scheduled ON messages (schedule_delivery_time)
      WHERE state = 1 AND connector IS NULL AND schedule_delivery_time IS NOT NULL`
  )
  yield* sql.unsafe(`CREATE INDEX messages_validity ON messages (validity_period)
      WHERE state = 1 AND validity_period IS NOT NULL`)
  yield* sql.unsafe(`CREATE TABLE gateway_sequences (
  name TEXT PRIMARY KEY NOT NULL,
  next_value ${t.int64} NOT NULL
)`)
  yield* sql.unsafe(`INSERT INTO gateway_sequences (name, next_value) VALUES ('message_id', 1)`)
  yield* sql.unsafe(`CREATE TABLE delivery_queue (
  id ${t.serial},
  account TEXT NOT NULL,
  kind TEXT NOT NULL,
  message_id TEXT,
  pdu ${t.bytes} NOT NULL,
  attempts INTEGER NOT NULL,
  leased INTEGER NOT NULL,
  next_attempt_at ${t.int64} NOT NULL,
  expires_at ${t.int64} NOT NULL,
  created_at ${t.int64} NOT NULL,
  last_status ${t.int64}
)`)
  yield* sql.unsafe(`CREATE INDEX delivery_queue_due ON delivery_queue (account, next_attempt_at)`)
  yield* sql.unsafe(`CREATE INDEX delivery_queue_expiry ON delivery_queue (expires_at)`)
})

// The start-up recovery reads only messages on their way (resubmitted to a connector that
// keeps nothing across a restart) and final messages whose receipt was never queued: partial
// indexes keep those few rows apart, so that a start does not scan every message ever stored.
// (The queries repeat the indexes' conditions with literals, so that SQLite can use them.)
const recoveryIndexes = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`CREATE INDEX messages_enroute ON messages (connector, id) WHERE state = 1`)
  // final (not ENROUTE 1), not cancelled (DELETED 4), a receipt asked for: any outcome (1),
  // or failures only (2) and not DELIVERED (2)
  yield* sql.unsafe(`CREATE INDEX messages_receipt_missing ON messages (id)
      WHERE receipt IS NULL AND state <> 1 AND state <> 4
      AND (registered_delivery % 4 = 1 OR (registered_delivery % 4 = 2 AND state <> 2))`)
})

// Only a relay's messages have an upstream id to look up (its receipts): the simulator's
// leave it NULL, and an index entry for each of those cost ~2.5 µs per insert (measured on
// 64-row INSERTs, 8.4 against 5.9 µs per row). `upstream_id = ?` implies NOT NULL, so the
// lookup still uses the index (SQLite and PostgreSQL).
const upstreamPartialIndex = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`DROP INDEX messages_upstream`)
  yield* sql.unsafe(
    `CREATE INDEX messages_upstream ON messages (connector, upstream_id) WHERE upstream_id IS NOT NULL`
  )
})

/**
 * The migrations by `id_name`.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> = {
  "1_initial": initial,
  "2_recovery_indexes": recoveryIndexes,
  "3_upstream_partial_index": upstreamPartialIndex
}

/**
 * The table that records which migrations ran.
 *
 * @since 0.1.0
 * @category constants
 */
export const TABLE = "gateway_migrations"

/**
 * Runs the migrations not yet applied; the ids and names of those it ran.
 *
 * @since 0.1.0
 * @category migrations
 */
export const run: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  Migrator.MigrationError | SqlError,
  SqlClient.SqlClient
> = Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: TABLE })

/**
 * The database, migrated: the stores depend on this service so that their tables exist.
 *
 * @since 0.1.0
 * @category services
 */
export class Migrations extends Effect.Service<Migrations>()("@effect-smpp/gateway/Migrations", {
  effect: Effect.map(run, (applied) => ({ applied }))
}) {}
