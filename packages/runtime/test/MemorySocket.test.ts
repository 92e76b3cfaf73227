import { assert, describe, it } from "@effect/vitest"
import * as Socket from "@effect/platform/Socket"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as MemorySocket from "../src/MemorySocket.js"

const bytes = (...values: Array<number>) => new Uint8Array(values)

/** Runs `socket` in the background, collecting every chunk it reads. */
const collect = (socket: Socket.Socket) =>
  Effect.gen(function*() {
    const chunks = yield* Queue.unbounded<Uint8Array>()
    const fiber = yield* Effect.fork(socket.run((chunk) => {
      Queue.unsafeOffer(chunks, chunk)
    }))
    return { chunks, fiber }
  })

describe("MemorySocket", () => {
  it.scoped("carries bytes both ways, in order", () =>
    Effect.gen(function*() {
      const [a, b] = yield* MemorySocket.makePair()
      const atB = yield* collect(b)
      const atA = yield* collect(a)
      const writeA = yield* a.writer
      const writeB = yield* b.writer
      yield* writeA(bytes(1, 2, 3))
      yield* writeA(bytes(4))
      yield* writeB("hi")
      assert.deepStrictEqual(Array.from(yield* Queue.take(atB.chunks)), [1, 2, 3])
      assert.deepStrictEqual(Array.from(yield* Queue.take(atB.chunks)), [4])
      assert.deepStrictEqual(Array.from(yield* Queue.take(atA.chunks)), [104, 105])
    }))

  it.scoped("buffers what is written before the peer runs, and copies every chunk", () =>
    Effect.gen(function*() {
      const [a, b] = yield* MemorySocket.makePair()
      const write = yield* a.writer
      const buffer = bytes(7, 8)
      yield* write(buffer)
      buffer[0] = 0 // the writer reuses its buffer: the reader must not see it
      const atB = yield* collect(b)
      assert.deepStrictEqual(Array.from(yield* Queue.take(atB.chunks)), [7, 8])
    }))

  it.scoped("cuts chunks to maxChunkSize", () =>
    Effect.gen(function*() {
      const [a, b] = yield* MemorySocket.makePair({ maxChunkSize: 2 })
      const atB = yield* collect(b)
      const write = yield* a.writer
      yield* write(bytes(1, 2, 3, 4, 5))
      const got: Array<Array<number>> = []
      for (let i = 0; i < 3; i++) got.push(Array.from(yield* Queue.take(atB.chunks)))
      assert.deepStrictEqual(got, [[1, 2], [3, 4], [5]])
    }))

  it.effect("ends the peer's run when the writer's scope closes (half-close)", () =>
    Effect.gen(function*() {
      const [a, b] = yield* MemorySocket.makePair()
      const atB = yield* collect(b)
      yield* Effect.scoped(Effect.flatMap(a.writer, (write) => write(bytes(1))))
      const exit = yield* Fiber.await(atB.fiber)
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(Array.from(yield* Queue.take(atB.chunks)), [1])
      // The other direction still works after a half-close.
      const atA = yield* collect(a)
      yield* Effect.scoped(Effect.flatMap(b.writer, (write) => write(bytes(2))))
      assert.deepStrictEqual(Array.from(yield* Queue.take(atA.chunks)), [2])
    }))

  it.scoped("a CloseEvent ends both runs; later writes fail", () =>
    Effect.gen(function*() {
      const [a, b] = yield* MemorySocket.makePair()
      const atA = yield* collect(a)
      const atB = yield* collect(b)
      const write = yield* a.writer
      yield* write(new Socket.CloseEvent(1000))
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(atA.fiber)))
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(atB.fiber)))
      const failed = yield* Effect.flip(write(bytes(1)))
      assert.strictEqual(failed._tag, "SocketError")
      assert.strictEqual(failed.reason, "Write")
    }))

  it.scoped("a CloseEvent with an error code fails the local run", () =>
    Effect.gen(function*() {
      const [a] = yield* MemorySocket.makePair()
      const atA = yield* collect(a)
      const write = yield* a.writer
      yield* write(new Socket.CloseEvent(4000, "bye"))
      const exit = yield* Fiber.await(atA.fiber)
      assert.isTrue(Exit.isFailure(exit))
    }))

  it.scoped("runs a handler's Effect before the next chunk", () =>
    Effect.gen(function*() {
      const [a, b] = yield* MemorySocket.makePair()
      const seen: Array<string> = []
      const gate = yield* Deferred.make<void>()
      // Both chunks are queued before the run starts: they are read in one go.
      const write = yield* a.writer
      yield* write(bytes(1))
      yield* write(bytes(2))
      yield* Effect.fork(b.run((chunk) =>
        chunk[0] === 1
          ? Effect.sync(() => seen.push("first")).pipe(
            Effect.zipRight(Effect.yieldNow()),
            Effect.zipRight(Effect.sync(() => seen.push("first done"))),
            Effect.zipRight(Deferred.succeed(gate, undefined))
          )
          : Effect.sync(() => {
            seen.push(`next ${chunk[0]}`)
          })
      ))
      yield* Deferred.await(gate)
      yield* Effect.yieldNow()
      yield* Effect.yieldNow()
      assert.deepStrictEqual(seen, ["first", "first done", "next 2"])
    }))
})
