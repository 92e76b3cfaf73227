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
 * On PostgreSQL the whole run holds an advisory lock (`LOCK_KEY`): gateways started together
 * on one fresh database migrate it one after the other instead of racing to create the tables.
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

/** FNV-1a, 64 bits, of the UTF-8 octets; as a signed 64-bit integer, PostgreSQL's `bigint`. */
const fnv1a64 = (text: string): bigint => {
  let hash = 0xcbf29ce484222325n
  for (const octet of new TextEncoder().encode(text)) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(octet)) * 0x100000001b3n)
  }
  return BigInt.asIntN(64, hash)
}

/**
 * The key of the PostgreSQL advisory lock held while migrating: FNV-1a (64 bits) of `TABLE`,
 * so that every gateway on a database takes the same one, and only for this table.
 *
 * @since 0.1.0
 * @category constants
 */
export const LOCK_KEY: bigint = fnv1a64(TABLE)

/**
 * Runs `self` holding the session-level advisory lock `LOCK_KEY`, and on one connection.
 *
 * The Migrator takes no lock of its own before it creates its table (`select ...::regclass`,
 * then `CREATE TABLE` should that fail): two gateways on a fresh database both create it, and
 * one fails. So the lock is held around the whole Migrator run:
 *
 * - a session lock on a reserved connection (`sql.reserve`), not `pg_advisory_xact_lock` in a
 *   transaction: the Migrator creates its table outside of any transaction, and its
 *   `::regclass` probe, failing as it does on a fresh database, would abort a transaction
 *   around it; and an xact lock taken in a transaction of its own ends with that transaction.
 * - the Migrator's statements run on that same connection (`TransactionConnection` at depth -1:
 *   its own `withTransaction` then begins, at depth 0, a real transaction there rather than a
 *   savepoint): a pool of one connection does not wait on itself, and lock, migrations and
 *   unlock are one session.
 * - the unlock is a finalizer, registered before the lock is asked for: it runs whether the
 *   migrations succeed, fail or die, or the wait is interrupted (after the driver cancels the
 *   waiting statement, unlocking a lock not held only warns). Then the connection goes back
 *   to the pool with no lock on it.
 */
const exclusive = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError, R | SqlClient.SqlClient> =>
  Effect.scoped(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const connection = yield* sql.reserve
    const onConnection = Effect.provideService(SqlClient.TransactionConnection, [connection, -1])
    yield* Effect.addFinalizer(() =>
      onConnection(sql`SELECT pg_advisory_unlock(${LOCK_KEY})`).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("cannot release the migration lock", cause))
      )
    )
    yield* onConnection(sql`SELECT pg_advisory_lock(${LOCK_KEY})`)
    return yield* onConnection(self)
  }))

/**
 * Runs those of `record`'s migrations (by `id_name`) not yet applied, recorded in `TABLE`; the ids
 * and names of those it ran. On PostgreSQL under the advisory lock `LOCK_KEY`, so that
 * gateways starting together on one database migrate it one after the other; on SQLite as
 * they are (one file, and one writer at a time).
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrate = (
  record: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>>
): Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  Migrator.MigrationError | SqlError,
  SqlClient.SqlClient
> => {
  const migrator = Migrator.make({})({ loader: Migrator.fromRecord(record), table: TABLE })
  return Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.onDialectOrElse({
      pg: () => exclusive(migrator),
      orElse: () => migrator
    }))
}

/**
 * Runs the gateway's migrations not yet applied; the ids and names of those it ran.
 *
 * @since 0.1.0
 * @category migrations
 */
export const run: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  Migrator.MigrationError | SqlError,
  SqlClient.SqlClient
> = migrate(migrations)

/**
 * The database, migrated: the stores depend on this service so that their tables exist.
 *
 * @since 0.1.0
 * @category services
 */
export class Migrations extends Effect.Service<Migrations>()("@effect-smpp/gateway/Migrations", {
  effect: Effect.map(run, (applied) => ({ applied }))
}) {}
