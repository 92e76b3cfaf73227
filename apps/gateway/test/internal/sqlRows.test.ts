import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Database from "../../src/Database.js"
import * as SqlRows from "../../src/internal/sqlRows.js"

describe("internal/sqlRows", () => {
  it("cuts items into the fixed sizes, largest first, in order", () => {
    const items = Array.from({ length: 341 }, (_, i) => i)
    const chunks = SqlRows.chunks(items)
    assert.deepStrictEqual(chunks.map((c) => c.length), [256, 64, 16, 4, 1])
    assert.deepStrictEqual(chunks.flat(), items)
    assert.deepStrictEqual(SqlRows.chunks(items.slice(0, 130), 64).map((c) => c.length), [64, 64, 1, 1])
    assert.deepStrictEqual(SqlRows.chunks([]), [])
  })

  it.effect("writes one statement with a row of values each, placeholders by the client", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* SqlRows.rows<{ a: string; b: number }>(
        sql,
        "SELECT column1 AS a, column2 AS b FROM (VALUES ",
        ["(CAST(", " AS TEXT), CAST(", " AS INTEGER))"],
        [["x", 1], ["y", 2], ["it's", 3]],
        ") AS v ORDER BY b"
      )
      assert.deepStrictEqual(rows.map((r) => [r.a, r.b]), [["x", 1], ["y", 2], ["it's", 3]])
    }).pipe(Effect.provide(Database.layerSqlite({ filename: ":memory:" }))))

  it.effect("prepared: the same statement from a text made once per row count, values bound as they are", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const select = SqlRows.prepared<{ a: string; b: number; c: Uint8Array | null }>(
        sql,
        "SELECT column1 AS a, column2 AS b, column3 AS c FROM (VALUES ",
        ["(CAST(", " AS TEXT), CAST(", " AS INTEGER), ", ")"],
        ") AS v ORDER BY b"
      )
      assert.deepStrictEqual(SqlRows.tuple(3), ["(", ", ", ", ", ")"])
      const two = select([["x", 1, Buffer.from([1, 2])], ["it's", 2, null]])
      assert.strictEqual(
        two.compile()[0],
        "SELECT column1 AS a, column2 AS b, column3 AS c FROM (VALUES (CAST(? AS TEXT), CAST(? AS INTEGER), ?), " +
          "(CAST(? AS TEXT), CAST(? AS INTEGER), ?)) AS v ORDER BY b"
      )
      const rows = yield* two
      assert.deepStrictEqual(rows.map((r) => [r.a, r.b, r.c === null ? null : [...r.c]]), [["x", 1, [1, 2]], ["it's", 2, null]])
      // another row count: another text; the same count again: the same rows
      assert.strictEqual((yield* select([["z", 9, null]])).length, 1)
      assert.deepStrictEqual((yield* select([["p", 1, null], ["q", 2, null]])).map((r) => r.a), ["p", "q"])
    }).pipe(Effect.provide(Database.layerSqlite({ filename: ":memory:" }))))
})
