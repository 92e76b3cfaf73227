/**
 * TCP and TLS connections for SMPP sessions, as `@effect/platform` sockets: `connect` dials
 * (the client, and the server's outbind), `listen` accepts (the server, and a client waiting
 * for an outbind). A `Dialer` is what a client connects with; the test kit swaps it for an
 * in-memory one.
 *
 * A node socket is owned by a Scope (closing it ends the socket: `destroySoon`, what was
 * written still goes out), or, taken from a listener with `take`, by whoever took it.
 * Closing a listener's Scope stops listening and destroys every connection it accepted
 * that was not taken.
 *
 * @since 0.1.0
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as Socket from "@effect/platform/Socket"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Net from "node:net"
import * as Tls from "node:tls"
import { onNetError } from "./internal/wire.js"

/**
 * A connection ready for a session: the socket, and the peer's address for logs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Connection {
  readonly socket: Socket.Socket
  /** `host:port` of the other end (or any label, for in-memory connections). */
  readonly peer: string
  /**
   * The node socket under `socket`, when there is one: sessions read and write it directly,
   * with no fiber of their own (the platform socket is then made only if asked for).
   */
  readonly conn?: Net.Socket | undefined
}

/**
 * How a client gets a connection: each run gives a new one, closed with the Scope.
 *
 * @since 0.1.0
 * @category models
 */
export type Dialer = Effect.Effect<Connection, TransportError, Scope.Scope>

/**
 * @since 0.1.0
 * @category models
 */
export interface Address {
  readonly host: string
  readonly port: number
}

/**
 * A connection could not be opened, or a port could not be listened on.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly reason: "Connect" | "Timeout" | "Listen"
  /** `host:port` dialed or listened on. */
  readonly address: string
  readonly cause?: unknown
}> {
  override get message(): string {
    const what = this.reason === "Listen" ? "cannot listen on" : this.reason === "Timeout" ? "timed out connecting to" : "cannot connect to"
    const cause = this.cause instanceof Error ? `: ${this.cause.message}` : ""
    return `${what} ${this.address}${cause}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectOptions {
  readonly host: string
  readonly port: number
  /** TLS: `true` for the defaults (the peer's certificate verified), or node's options (ca, servername, …). */
  readonly tls?: boolean | Tls.ConnectionOptions | undefined
  /** Bound of the TCP (and TLS) handshake; default 10 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ListenOptions {
  /** Default `0.0.0.0`. */
  readonly host?: string | undefined
  /** 0 (the default) picks a free port: see `Listener.address`. */
  readonly port?: number | undefined
  /** TLS: node's server options, at least `key` and `cert`. */
  readonly tls?: Tls.TlsOptions | undefined
  readonly backlog?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Listener {
  /** The address bound, with the port the system picked when 0 was asked for. */
  readonly address: Address
  /**
   * Waits for the next connection. It is closed when the caller's Scope closes (or when the
   * listener's does, whichever comes first).
   */
  readonly accept: Effect.Effect<Connection, never, Scope.Scope>
  /**
   * Waits for the next connection, which the caller owns from then on and ends (a session
   * does when it closes); the listener's Scope no longer destroys it.
   */
  readonly take: Effect.Effect<Connection>
}

const noop = (): void => {}

const peerOf = (conn: Net.Socket): string => {
  const host = conn.remoteAddress ?? "?"
  return `${host.includes(":") ? `[${host}]` : host}:${conn.remotePort ?? "?"}`
}

const end = (conn: Net.Socket): void => {
  if (conn.destroyed) return
  // Lets what is queued go out, then closes; a peer that stopped reading cannot hold it open
  // for ever once the writable side is done.
  conn.destroySoon()
}

/** A platform socket over an open node socket; the caller owns (and ends) the node socket. */
const toSocket = (conn: Net.Socket): Effect.Effect<Socket.Socket> =>
  NodeSocket.fromDuplex(
    Effect.suspend(() =>
      conn.destroyed
        ? Effect.fail(new Socket.SocketCloseError({ reason: "Close", code: 1006 }))
        : Effect.succeed(conn)
    )
  )

const prepare = (conn: Net.Socket): void => {
  // Keeps an error from being an uncaught exception; once a session runs on the socket, it
  // ends that session (errors surface through the platform socket's reader too).
  conn.on("error", onNetError)
  conn.setNoDelay(true)
}

/**
 * Opens a TCP (or TLS) connection; it is ended when the Scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (options: ConnectOptions): Effect.Effect<Connection, TransportError, Scope.Scope> => {
  const address = `${options.host}:${options.port}`
  const timeout = options.timeout ?? Duration.seconds(10)
  const open = Effect.async<Net.Socket, TransportError>((resume) => {
    const useTls = options.tls !== undefined && options.tls !== false
    const conn: Net.Socket = useTls
      ? Tls.connect({
        host: options.host,
        port: options.port,
        servername: Net.isIP(options.host) === 0 ? options.host : undefined,
        ...(typeof options.tls === "object" ? options.tls : {})
      })
      : Net.createConnection({ host: options.host, port: options.port })
    const onError = (cause: Error) => {
      conn.destroy()
      resume(Effect.fail(new TransportError({ reason: "Connect", address, cause })))
    }
    conn.once("error", onError)
    conn.once(useTls ? "secureConnect" : "connect", () => {
      conn.off("error", onError)
      prepare(conn)
      resume(Effect.succeed(conn))
    })
    return Effect.sync(() => conn.destroy())
  }).pipe(
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new TransportError({ reason: "Timeout", address }) })
  )
  return owned(open)
}

/**
 * Runs `open` interruptibly (an acquire of `acquireRelease` would not be: a Scope closing
 * while it waits would wait with it), and ends the socket with the caller's Scope.
 */
const owned = <E>(open: Effect.Effect<Net.Socket, E>): Effect.Effect<Connection, E, Scope.Scope> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(restore(open), (conn) =>
      Effect.zipRight(Effect.addFinalizer(() => Effect.sync(() => end(conn))), connectionOf(conn)))
  )

/**
 * A connection over a node socket. Sessions read and write `conn` directly, so its platform
 * socket is made only if someone asks for it, with the runtime of the fiber that opened the
 * connection (made for every connection, it left more of a server's heap fragmented: ~0.5–1
 * KiB of RSS per idle session in bench/ClientServer.ts).
 */
const connectionOf = (conn: Net.Socket): Effect.Effect<Connection> =>
  Effect.map(Effect.runtime<never>(), (runtime): Connection => {
    let socket: Socket.Socket | undefined
    return {
      get socket() {
        return (socket ??= Runtime.runSync(runtime)(toSocket(conn)))
      },
      peer: peerOf(conn),
      conn
    }
  })

/**
 * A `Dialer` that connects with `connect(options)` on each run.
 *
 * @since 0.1.0
 * @category constructors
 */
export const dialer = (options: ConnectOptions): Dialer => connect(options)

/**
 * Listens for TCP (or TLS) connections until the Scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const listen = (options?: ListenOptions): Effect.Effect<Listener, TransportError, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options?.host ?? "0.0.0.0"
    const requested = `${host}:${options?.port ?? 0}`
    const incoming = yield* Queue.unbounded<Net.Socket>()
    const open = new Set<Net.Socket>()
    const useTls = options?.tls !== undefined

    // One listener for every connection, called with the socket as `this`.
    function forget(this: Net.Socket) {
      open.delete(this)
    }
    const onConnection = (conn: Net.Socket) => {
      prepare(conn)
      open.add(conn)
      Queue.unsafeOffer(incoming, conn)
    }
    const server: Net.Server = useTls
      ? Tls.createServer(options!.tls!, onConnection)
      : Net.createServer(onConnection)
    // A failed TLS handshake concerns that client only.
    if (useTls) server.on("tlsClientError", noop)

    yield* Effect.acquireRelease(
      Effect.async<void, TransportError>((resume) => {
        const onError = (cause: Error) => resume(Effect.fail(new TransportError({ reason: "Listen", address: requested, cause })))
        server.once("error", onError)
        server.listen({ host, port: options?.port ?? 0, backlog: options?.backlog ?? 511 }, () => {
          server.off("error", onError)
          server.on("error", noop)
          resume(Effect.void)
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const conn of open) conn.destroy()
          open.clear()
          server.close(() => resume(Effect.void))
        }).pipe(Effect.zipRight(Queue.shutdown(incoming)))
    )

    const bound = server.address()
    const address: Address = bound !== null && typeof bound === "object"
      ? { host: bound.address, port: bound.port }
      : { host, port: options?.port ?? 0 }

    const accept: Effect.Effect<Connection, never, Scope.Scope> = owned(Effect.map(Queue.take(incoming), (conn) => {
      conn.on("close", forget)
      return conn
    }))
    // Handed over: the taker ends it, and the listener forgets it (no listener of its own on
    // each connection: a server may hold many thousands).
    const take: Effect.Effect<Connection> = Effect.flatMap(Queue.take(incoming), (conn) => {
      open.delete(conn)
      return connectionOf(conn)
    })

    return { address, accept, take }
  })

/**
 * `host:port` as text.
 *
 * @since 0.1.0
 * @category utils
 */
export const formatAddress = (address: Address): string =>
  `${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`
