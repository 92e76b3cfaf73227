/**
 * `Migrations` against a real PostgreSQL (`fixtures/postgres.ts`): several gateways starting
 * at once on one fresh database must migrate it once, without one of them failing on the
 * migrations table or migration 1 that another is creating at the same moment.
 *
 * Each "gateway" has its own pool (`Database.layerPostgres`), as separate processes would;
 * they are held at a barrier once connected, so that their migrations start together.
 * Without the lock one round of 4 failed 10 times out of 10 ("relation/type gateway_migrations
 * already exists", or a duplicate key in pg_type); without the barrier, 7 out of 10.
 */
import { assert, layer } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Database from "../src/Database.js"
import * as Migrations from "../src/Migrations.js"
import * as PgServer from "./fixtures/postgres.js"


const quiet = Logger.minimumLogLevel(LogLevel.None)

/** A gateway's own pool on `url`. */
const gateway = (url: Redacted.Redacted<string>, maxConnections: number) =>
  Database.layerPostgres({ url, maxConnections }).pipe(Layer.orDie)

/** Lets `parties` fibers through together, once all of them have arrived. */
const barrier = (parties: number) =>
  Effect.gen(function*() {
    const latch = yield* Effect.makeLatch(false)
    const arrived = yield* Ref.make(0)
    return Ref.updateAndGet(arrived, (n) => n + 1).pipe(
      Effect.flatMap((n) => n === parties ? latch.open : Effect.void),
      Effect.zipRight(latch.await)
    )
  })

const EXPECTED = [[1, "initial"], [2, "recovery_indexes"], [3, "upstream_partial_index"]] as const

/** The advisory locks granted or awaited on the server, with their 64-bit keys. */
const advisoryLocks = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ pid: number; key: string; granted: boolean }>`
    SELECT pid, ((classid::bigint << 32) | objid::bigint)::text AS key, granted
    FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1`
  return rows.map((row) => ({ pid: row.pid, key: BigInt.asIntN(64, BigInt(row.key)), granted: row.granted }))
})

/** The database as migrated once: every migration recorded once, the tables there, migration 1 run once. */
const assertMigratedOnce = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const recorded = yield* sql<{ migration_id: number; name: string }>`
    SELECT migration_id, name FROM ${sql(Migrations.TABLE)} ORDER BY migration_id`
  assert.deepStrictEqual(recorded.map((row) => [row.migration_id, row.name]), EXPECTED.map(([id, name]) => [id, name]))
  const tables = yield* sql<{ messages: string | null; sequences: string | null; queue: string | null }>`
    SELECT to_regclass('messages')::text AS messages, to_regclass('gateway_sequences')::text AS sequences,
      to_regclass('delivery_queue')::text AS queue`
  assert.deepStrictEqual(tables[0], { messages: "messages", sequences: "gateway_sequences", queue: "delivery_queue" })
  // migration 1 inserts the message id sequence's row: twice would be two rows
  const sequences = yield* sql<{ name: string }>`SELECT name FROM gateway_sequences`
  assert.deepStrictEqual(sequences.map((row) => row.name), ["message_id"])
  // migration 3's index, partial: the last migration ran
  const upstream = yield* sql<{ indexdef: string }>`SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_upstream'`
  assert.strictEqual(upstream.length, 1)
  assert.include(upstream[0].indexdef, "WHERE (upstream_id IS NOT NULL)")
})

const GATEWAYS = 4
const ROUNDS = 5

layer(PgServer.layer("migrations"), { timeout: "100 seconds", excludeTestServices: true })("Migrations on PostgreSQL", (it) => {
  it.effect(`${GATEWAYS} gateways migrating one fresh database at once: each migration runs once (${ROUNDS} rounds)`, () =>
    Effect.gen(function*() {
      const { database } = yield* PgServer.Postgres
      for (let round = 0; round < ROUNDS; round++) {
        const url = yield* database
        const together = yield* barrier(GATEWAYS)
        // pools of 1 too: the lock must not need a second connection of the pool
        const applied = yield* Effect.all(
          Array.from({ length: GATEWAYS }, (_, i) =>
            Effect.zipRight(together, Migrations.run).pipe(Effect.provide(gateway(url, i % 2 === 0 ? 1 : 4)))),
          { concurrency: "unbounded" }
        )
        // every migration applied by exactly one of them
        const all = applied.flat().map(([id, name]) => [id, name]).sort(([a], [b]) => Number(a) - Number(b))
        assert.deepStrictEqual(all, EXPECTED.map(([id, name]) => [id, name]), `round ${round}`)
        yield* assertMigratedOnce.pipe(Effect.provide(gateway(url, 1)))
      }
    }).pipe(Effect.provide(quiet)))

  it.effect("the lock is held, with its fixed key, by the connection that runs the migrations", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgServer.Postgres, (pg) => pg.database)
      const seen = yield* Ref.make<ReadonlyArray<unknown>>([])
      const probe = Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [{ pid }] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`
        const locks = yield* advisoryLocks
        yield* Ref.set(seen, [pid, locks])
      })
      const applied = yield* Migrations.migrate({ "1_probe": probe }).pipe(Effect.provide(gateway(url, 4)))
      assert.deepStrictEqual(applied, [[1, "probe"]])
      const [pid, locks] = yield* Ref.get(seen)
      assert.strictEqual(Migrations.LOCK_KEY, -9220966413666351005n)
      assert.deepStrictEqual(locks, [{ pid, key: Migrations.LOCK_KEY, granted: true }])
      // and released once done
      assert.deepStrictEqual(yield* advisoryLocks.pipe(Effect.provide(gateway(url, 1))), [])
    }).pipe(Effect.provide(quiet)))

  it.effect("a failing migration rolls back and releases the lock; the next gateway migrates", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgServer.Postgres, (pg) => pg.database)
      const failing = {
        "1_ok": Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE probe_ok (id INTEGER)`),
        "2_boom": Effect.fail(new SqlError({ cause: "boom", message: "boom" }))
      }
      // a pool of 1, still open while we look: its only connection is the one that held the lock
      yield* Effect.gen(function*() {
        const exit = yield* Effect.exit(Migrations.migrate(failing))
        assert.isTrue(Exit.isFailure(exit))
        assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "Migration \"2_boom\" failed")
        yield* Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          assert.deepStrictEqual(yield* advisoryLocks, [])
          // one transaction: migration 1's table and the records are gone with migration 2
          const [{ ok }] = yield* sql<{ ok: string | null }>`SELECT to_regclass('probe_ok')::text AS ok`
          assert.isNull(ok)
          assert.deepStrictEqual(yield* sql`SELECT * FROM ${sql(Migrations.TABLE)}`, [])
        }).pipe(Effect.provide(gateway(url, 1)))
        const applied = yield* Migrations.run.pipe(Effect.provide(gateway(url, 1)), Effect.timeout("10 seconds"))
        assert.strictEqual(applied.length, 3)
        yield* assertMigratedOnce.pipe(Effect.provide(gateway(url, 1)))
      }).pipe(Effect.provide(gateway(url, 1)))
    }).pipe(Effect.provide(quiet)))

  it.effect("a gateway waiting for the lock can be interrupted, and leaves no lock behind", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgServer.Postgres, (pg) => pg.database)
      const locksOf = advisoryLocks.pipe(Effect.provide(gateway(url, 1)))
      // another gateway holds the lock (as if migrating) on its pool's only connection
      yield* Effect.scoped(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const holder = yield* sql.reserve
        yield* holder.executeRaw("SELECT pg_advisory_lock($1)", [String(Migrations.LOCK_KEY)])
        const [{ pid }] = yield* holder.executeRaw("SELECT pg_backend_pid() AS pid", []).pipe(
          Effect.map((result) => (result as { rows: ReadonlyArray<{ pid: number }> }).rows)
        )
        const waiter = yield* Effect.fork(Migrations.run.pipe(Effect.provide(gateway(url, 2))))
        yield* locksOf.pipe(
          Effect.filterOrFail((locks) => locks.some((lock) => !lock.granted && lock.key === Migrations.LOCK_KEY)),
          Effect.retry(Schedule.intersect(Schedule.spaced("20 millis"), Schedule.recurs(250)))
        )
        yield* Fiber.interrupt(waiter).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "stuck" }))
        assert.deepStrictEqual(yield* locksOf, [{ pid, key: Migrations.LOCK_KEY, granted: true }])
        // the waiter did not get as far as creating the migrations table
        const table = yield* holder.executeRaw("SELECT to_regclass($1)::text AS t", [Migrations.TABLE])
        assert.deepStrictEqual((table as { rows: unknown }).rows, [{ t: null }])
        yield* holder.executeRaw("SELECT pg_advisory_unlock($1)", [String(Migrations.LOCK_KEY)])
      })).pipe(Effect.provide(gateway(url, 1)))
      assert.strictEqual((yield* Migrations.run.pipe(Effect.provide(gateway(url, 1)))).length, 3)
      yield* assertMigratedOnce.pipe(Effect.provide(gateway(url, 1)))
      assert.deepStrictEqual(yield* locksOf, [])
    }).pipe(Effect.provide(quiet)))
})
