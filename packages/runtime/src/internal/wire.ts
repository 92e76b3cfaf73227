/**
 * What a session reads from and writes to: bytes in by callback, bytes out by call. Two
 * kinds:
 * - over a node socket (TCP, TLS): plain event listeners, no fiber — an idle session costs
 *   the socket and its listeners, nothing more (measured: a platform socket's reader fiber
 *   and writer took ~20 KiB of heap per idle session);
 * - over any `@effect/platform` Socket (the in-memory pair of the test kit, or a user's):
 *   a reader fiber and a writer fiber, started with the wire and interrupted by `end`.
 */
import * as Socket from "@effect/platform/Socket"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import type * as Net from "node:net"

/** @internal */
export interface Handlers {
  readonly onData: (chunk: Uint8Array) => void
  /** Once: the peer closed (`error` undefined, or a close event) or the connection failed. */
  readonly onEnd: (error: unknown) => void
  /** A write answered `false` earlier, and the wire takes more now. */
  readonly onDrain: () => void
}

/** @internal */
export interface Wire {
  readonly start: (handlers: Handlers) => void
  /**
   * Writes `bytes`; `done` is called once they are handed over (or the wire failed). Answers
   * `false` when the caller should hold further writes until `onDrain`.
   */
  readonly write: (bytes: Uint8Array, done?: () => void) => boolean
  /** Ends the connection after what was written goes out. */
  readonly end: () => void
  /** Stops (`false`) or restarts (`true`) reading: a peer that sends without reading. */
  readonly reading: (on: boolean) => void
}

/** @internal */
export class CloseError extends Error {
  constructor(readonly reason: "Close" | "Error", cause?: unknown) {
    super(reason === "Close" ? "connection closed" : "connection failed", { cause })
  }
}

// ---------------------------------------------------------------------------------------------

const wireKey: unique symbol = Symbol("effect-smpp/wire")

type WiredSocket = Net.Socket & { [wireKey]?: NetWire }

// Listeners shared by every socket (node calls them with the socket as `this`): no closure
// per connection.
function onNetData(this: WiredSocket, chunk: Uint8Array): void {
  this[wireKey]?.handlers?.onData(chunk)
}
function onNetDrain(this: WiredSocket): void {
  this[wireKey]?.handlers?.onDrain()
}
/**
 * @internal The "error" listener of every socket `Transport` opens or accepts, there from the
 * start: until a session takes the socket, it only keeps an error from being uncaught.
 */
export function onNetError(this: WiredSocket, error: Error): void {
  this[wireKey]?.finish(error)
}
function onNetClose(this: WiredSocket): void {
  this[wireKey]?.finish(undefined)
}

/** @internal */
export class NetWire implements Wire {
  handlers: Handlers | undefined = undefined
  private ended = false
  constructor(readonly conn: Net.Socket) {}

  start(handlers: Handlers): void {
    this.handlers = handlers
    const conn = this.conn as WiredSocket
    conn[wireKey] = this
    // Not removed and added again: removing a listener turns the socket's `_events` into a
    // dictionary (measured: 448 bytes more per idle session).
    if (!conn.listeners("error").includes(onNetError)) conn.on("error", onNetError)
    // 'close' follows the peer's end (sockets are not half-open) as well as an error.
    conn.on("close", onNetClose)
    conn.on("drain", onNetDrain)
    conn.on("data", onNetData)
    if (conn.destroyed) this.finish(undefined)
  }

  finish(error: unknown): void {
    if (this.ended) return
    this.ended = true
    this.handlers?.onEnd(error)
  }

  write(bytes: Uint8Array, done?: () => void): boolean {
    if (this.conn.destroyed || this.conn.writableEnded) {
      done?.()
      return true
    }
    return this.conn.write(bytes, done)
  }

  end(): void {
    // What is queued goes out, then the socket closes; a peer that stopped reading cannot
    // hold it open once the writable side is done.
    if (!this.conn.destroyed) this.conn.destroySoon()
  }

  reading(on: boolean): void {
    if (on) this.conn.resume()
    else this.conn.pause()
  }
}

// ---------------------------------------------------------------------------------------------

/** @internal */
export class PlatformWire implements Wire {
  /** Reads, and holds the writer (its Scope is this fiber's): interrupted by `end`. */
  private fiber: Fiber.RuntimeFiber<void, never> | undefined = undefined
  private queue: Array<Uint8Array> = []
  private callbacks: Array<() => void> = []
  private writing = false
  private handlers: Handlers | undefined = undefined
  private write_: ((bytes: Uint8Array) => Effect.Effect<void, Socket.SocketError>) | undefined = undefined
  private closed = false

  constructor(readonly socket: Socket.Socket, readonly runtime: Runtime.Runtime<never>) {}

  start(handlers: Handlers): void {
    this.handlers = handlers
    const run = Effect.flatMap(this.socket.writer, (write) => {
      this.write_ = write
      // What was written before the writer was there goes now.
      if (this.queue.length > 0 && !this.writing && !this.closed) {
        this.writing = true
        this.pump()
      }
      return this.socket.run((chunk) => handlers.onData(chunk))
    })
    this.fiber = Runtime.runFork(this.runtime)(
      Effect.matchCause(Effect.scoped(run), {
        onSuccess: () => handlers.onEnd(undefined),
        onFailure: (cause) => {
          if (Cause.isInterruptedOnly(cause)) return
          const error = Cause.squash(cause)
          handlers.onEnd(
            Socket.isSocketError(error) && error.reason === "Close" ? new CloseError("Close", error) : error
          )
        }
      })
    )
  }

  write(bytes: Uint8Array, done?: () => void): boolean {
    if (this.closed) {
      done?.()
      return true
    }
    this.queue.push(bytes)
    if (done !== undefined) this.callbacks.push(done)
    if (this.writing || this.write_ === undefined) return false
    this.writing = true
    this.pump()
    return !this.writing
  }

  /** One write at a time, as the platform socket wants; what comes meanwhile goes together. */
  private pump(): void {
    const chunks = this.queue
    const callbacks = this.callbacks
    this.queue = []
    this.callbacks = []
    const bytes = chunks.length === 1 ? chunks[0]! : concat(chunks)
    Runtime.runCallback(this.runtime)(this.write_!(bytes), {
      onExit: (exit) => {
        for (const f of callbacks) f()
        if (Exit.isFailure(exit) && !Exit.isInterrupted(exit)) {
          this.closed = true
          this.handlers?.onEnd(Cause.squash(exit.cause))
        }
        if (this.queue.length > 0 && !this.closed) return this.pump()
        this.writing = false
        this.handlers?.onDrain()
      }
    })
  }

  /** Reads go on: the platform socket has no pause (its writes are awaited one by one). */
  reading(_on: boolean): void {}

  end(): void {
    if (this.closed) return
    this.closed = true
    // Closes the writer's Scope too: the socket's end.
    this.fiber?.unsafeInterruptAsFork(FiberId.none)
  }
}

const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  let size = 0
  for (const chunk of chunks) size += chunk.length
  const out = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}
