/**
 * An in-memory connected pair of `@effect/platform` sockets: what one end writes, the other
 * reads, in order, with no real socket and no real time. For tests (two sessions talking to
 * each other, or a session and a peer driven by hand) and for the test kit.
 *
 * Semantics, close to a TCP connection seen through `NodeSocket`:
 * - `run(handler)` reads until the peer half-closes (its `writer` scope ends) and then
 *   succeeds; the handler is called once per chunk, synchronously, in order. A handler that
 *   returns an Effect is run before the next chunk.
 * - Writes before `run` is called are buffered (a connection's receive buffer).
 * - Writing a `CloseEvent` closes this end at once: its own `run` ends (succeeds for code
 *   1000, fails with `SocketCloseError` otherwise) and the peer reads end-of-stream.
 * - Writes after this end closed fail with `SocketGenericError` ("Write").
 * - Every written chunk is copied (the writer may reuse its buffer) and, with
 *   `maxChunkSize`, cut into pieces, to exercise framing across chunks.
 *
 * @since 0.1.0
 */
import * as Socket from "@effect/platform/Socket"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { BatchQueue } from "./internal/batchQueue.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Cut every written chunk into pieces of at most this many octets (default: no cut). */
  readonly maxChunkSize?: number | undefined
}

const EOF: unique symbol = Symbol.for("@effect-smpp/runtime/MemorySocket/EOF")
type Item = Uint8Array | typeof EOF

const encoder = new TextEncoder()

interface End {
  readonly inbound: BatchQueue<Item>
  /** Completed when this end is closed by a CloseEvent written on it. */
  readonly closed: Deferred.Deferred<void, Socket.SocketError>
  /** This end wrote end-of-stream (half-close) or a CloseEvent: no more writes. */
  writeClosed: boolean
}

const makeSocket = (self: End, peer: End, options: Options | undefined): Socket.Socket => {
  const maxChunk = options?.maxChunkSize !== undefined && options.maxChunkSize > 0
    ? Math.floor(options.maxChunkSize)
    : Number.POSITIVE_INFINITY

  const deliver = (chunk: Uint8Array): void => {
    if (chunk.length === 0) return
    if (chunk.length <= maxChunk) {
      peer.inbound.offer(chunk.slice())
      return
    }
    for (let at = 0; at < chunk.length; at += maxChunk) {
      peer.inbound.offer(chunk.slice(at, Math.min(chunk.length, at + maxChunk)))
    }
  }

  const halfClose = (): void => {
    if (self.writeClosed) return
    self.writeClosed = true
    peer.inbound.offer(EOF)
  }

  const write = (chunk: Uint8Array | string | Socket.CloseEvent): Effect.Effect<void, Socket.SocketError> =>
    Effect.suspend(() => {
      if (Socket.isCloseEvent(chunk)) {
        halfClose()
        Deferred.unsafeDone(
          self.closed,
          chunk.code === 1000
            ? Exit.void
            : Exit.fail(new Socket.SocketCloseError({ reason: "Close", code: chunk.code, closeReason: chunk.reason }))
        )
        return Effect.void
      }
      if (self.writeClosed) {
        return Effect.fail(
          new Socket.SocketGenericError({ reason: "Write", cause: new Error("MemorySocket: this end is closed") })
        )
      }
      deliver(typeof chunk === "string" ? encoder.encode(chunk) : chunk)
      return Effect.void
    })

  const run = <_, E, R>(
    handler: (_: Uint8Array) => Effect.Effect<_, E, R> | void,
    opts?: { readonly onOpen?: Effect.Effect<void> | undefined }
  ): Effect.Effect<void, Socket.SocketError | E, R> => {
    const pump: Effect.Effect<void, E, R> = Effect.flatMap(
      self.inbound.takeUpTo(Number.MAX_SAFE_INTEGER),
      (items) => {
        let effects: Array<Effect.Effect<_, E, R>> | undefined
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!
          if (item === EOF) {
            return effects === undefined ? Effect.void : Effect.asVoid(Effect.all(effects, { discard: true }))
          }
          if (effects !== undefined) {
            effects.push(Effect.suspend(() => handler(item) ?? Effect.void) as Effect.Effect<_, E, R>)
            continue
          }
          const result = handler(item)
          if (Effect.isEffect(result)) effects = [result as Effect.Effect<_, E, R>]
        }
        return effects === undefined
          ? pump
          : Effect.zipRight(Effect.all(effects, { discard: true }), pump)
      }
    )
    const started = opts?.onOpen === undefined ? pump : Effect.zipRight(opts.onOpen, pump)
    return Effect.raceFirst(started, Deferred.await(self.closed))
  }

  const writer = Effect.acquireRelease(Effect.succeed(write), () => Effect.sync(halfClose))

  return Socket.Socket.of({
    [Socket.TypeId]: Socket.TypeId,
    run,
    runRaw: run,
    writer
  })
}

const makeEnd = Effect.map(
  Deferred.make<void, Socket.SocketError>(),
  (closed): End => ({ inbound: new BatchQueue<Item>(), closed, writeClosed: false })
)

/**
 * Two connected sockets. Neither needs a Scope: there is nothing to release but memory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePair = (options?: Options): Effect.Effect<readonly [Socket.Socket, Socket.Socket]> =>
  Effect.map(Effect.zip(makeEnd, makeEnd), ([a, b]) => [makeSocket(a, b, options), makeSocket(b, a, options)] as const)
