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
})
