/**
 * Statements over many rows at once, for `@effect/sql` clients of any dialect.
 *
 * `@effect/sql` pays a fixed cost per statement (compile, prepared-statement cache lookup,
 * fiber steps), so the stores write a batch with a few multi-row statements rather than one
 * per row. Each distinct statement text is prepared and cached by the client, so row counts
 * are cut into a few fixed sizes (`chunks`): a batch of any size uses at most a handful
 * of statement texts, all prepared once.
 *
 * `rows` assembles such a statement from literal text and the values between: the client's
 * own compiler writes the placeholders (`?` for SQLite, `$n` for PostgreSQL).
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"

/**
 * The statement `head row₁, row₂, … tail`, where each row is `template` with that row's
 * values between its parts (`template.length` is the values per row + 1). E.g. for
 * `WHERE id IN (?, ?, ?)`: `rows(sql, "… WHERE id IN (", ["", ""], ids.map((id) => [id]), ")")`.
 *
 * @internal
 */
export const rows = <A extends object>(
  sql: SqlClient.SqlClient,
  head: string,
  template: ReadonlyArray<string>,
  values: ReadonlyArray<ReadonlyArray<unknown>>,
  tail: string
): Statement.Statement<A> => {
  const parts: Array<string> = []
  const params: Array<unknown> = []
  let current = head
  for (let r = 0; r < values.length; r++) {
    const row = values[r]
    current += r === 0 ? template[0] : ", " + template[0]
    for (let i = 0; i < row.length; i++) {
      parts.push(current)
      params.push(row[i])
      current = template[i + 1]
    }
  }
  parts.push(current + tail)
  // a template strings array: the client's compiler writes its own placeholders
  const strings = Object.assign(parts, { raw: parts }) as unknown as TemplateStringsArray
  return sql<A>(strings, ...params)
}

/**
 * The row counts a statement is written for, largest first (each a multiple of the next).
 *
 * @internal
 */
export const SIZES: ReadonlyArray<number> = [256, 64, 16, 4, 1]

/**
 * `items` cut into chunks of the sizes in `SIZES` (none above `max`), largest first.
 *
 * @internal
 */
export const chunks = <A>(items: ReadonlyArray<A>, max = SIZES[0]): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  let i = 0
  for (const size of SIZES) {
    if (size > max) continue
    while (items.length - i >= size) {
      out.push(items.slice(i, i + size))
      i += size
    }
  }
  return out
}
