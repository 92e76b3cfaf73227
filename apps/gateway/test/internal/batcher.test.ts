import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Batcher from "../../src/internal/batcher.js"

const closed = () => "closed" as const

describe("internal/batcher", () => {
  it.effect("answers every caller with its own result, in batches of at most maxBatch", () =>
    Effect.gen(function*() {
      const sizes: Array<number> = []
      const batcher = yield* Batcher.make<number, number, string>({
        maxBatch: 64,
        run: (items) => Effect.sync(() => (sizes.push(items.length), items.map((n) => n * 2))),
        closed
      })
      const results = yield* Effect.forEach(Array.from({ length: 500 }, (_, i) => i), batcher.submit, {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(results, Array.from({ length: 500 }, (_, i) => i * 2))
      assert.isTrue(sizes.every((n) => n <= 64))
      assert.isAbove(Math.max(...sizes), 1)
      assert.deepStrictEqual(batcher.stats(), { batches: sizes.length, items: 500 })
    }).pipe(Effect.scoped))

  it.effect("a failed batch is retried item by item: only the bad item fails", () =>
    Effect.gen(function*() {
      let failures = 0
      const batcher = yield* Batcher.make<number, number, string>({
        maxBatch: 100,
        run: (items) => items.includes(13) ? Effect.fail("bad 13") : Effect.succeed(items),
        onFailure: Effect.sync(() => failures++),
        closed
      })
      const results = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        (i) => Effect.exit(batcher.submit(i)),
        { concurrency: "unbounded" }
      )
      results.forEach((exit, i) => {
        if (i === 13) assert.deepStrictEqual(exit, Exit.fail("bad 13"))
        else assert.deepStrictEqual(exit, Exit.succeed(i))
      })
      assert.isAtLeast(failures, 1)
    }).pipe(Effect.scoped))

  it.effect("writes what was submitted before the close, then refuses", () =>
    Effect.gen(function*() {
      const written: Array<number> = []
      const gate = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      const batcher = yield* Scope.extend(
        Batcher.make<number, number, string>({
          maxBatch: 10,
          // the first batch waits at the gate, so that the others queue up behind it
          run: (items) =>
            Effect.zipRight(
              written.length === 0 ? Deferred.await(gate) : Effect.void,
              Effect.sync(() => (written.push(...items), items))
            ),
          closed
        }),
        scope
      )
      const first = yield* Effect.fork(batcher.submit(0))
      yield* Effect.yieldNow()
      const rest = yield* Effect.fork(
        Effect.forEach([1, 2, 3, 4, 5], batcher.submit, { concurrency: "unbounded" })
      )
      // let the submitting fibers start and queue their items
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* Effect.yieldNow()
      assert.deepStrictEqual(yield* Effect.exit(batcher.submit(99)), Exit.fail("closed"))
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(closing)
      assert.strictEqual(yield* Fiber.join(first), 0)
      assert.deepStrictEqual(yield* Fiber.join(rest), [1, 2, 3, 4, 5])
      assert.deepStrictEqual(written, [0, 1, 2, 3, 4, 5])
    }))
  it.effect("unsafeOffer: no caller waits, onDone is called once the batch ran; refused after the close", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const batcher = yield* Scope.extend(
        Batcher.make<number, number, string>({ maxBatch: 10, run: (items) => Effect.succeed(items.map((n) => -n)), closed }),
        scope
      )
      const done = yield* Deferred.make<Array<Exit.Exit<number, string>>>()
      const exits: Array<Exit.Exit<number, string>> = []
      for (const n of [1, 2, 3]) {
        assert.isTrue(batcher.unsafeOffer(n, (exit) => {
          exits.push(exit)
          if (exits.length === 3) Deferred.unsafeDone(done, Exit.succeed(exits))
        }))
      }
      assert.deepStrictEqual(yield* Deferred.await(done), [Exit.succeed(-1), Exit.succeed(-2), Exit.succeed(-3)])
      yield* Scope.close(scope, Exit.void)
      assert.isFalse(batcher.unsafeOffer(4, () => {}))
    }))
})
