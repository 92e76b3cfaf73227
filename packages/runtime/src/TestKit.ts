/**
 * For the tests of code that uses `SmppClient`: a scriptable SMSC in the same process, and
 * the client connected to it in memory (no sockets). Everything runs on Effect's `Clock`, so
 * a test steps through keepalives, receipt delays, retries and reconnects with `TestClock`.
 *
 * @example
 * ```ts
 * it.scoped("sends and gets the receipt", () =>
 *   Effect.gen(function*() {
 *     const client = yield* SmppClient.SmppClient
 *     const smsc = yield* TestKit.Smsc
 *     yield* smsc.throttle(1) // the first submit is throttled, the retry goes through
 *     const fiber = yield* Effect.fork(client.submit({ from: "Shop", to: "+4912345678", text: "Hi" }))
 *     yield* TestClock.adjust("2 seconds")
 *     const { messageIds } = yield* Fiber.join(fiber)
 *   }).pipe(Effect.provide(TestKit.smsc({ receipts: { delay: "5 seconds" } }))))
 * ```
 *
 * @since 0.1.0
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as DeliveryReceipt from "@effect-smpp/schema/DeliveryReceipt"
import * as MessageState from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Segmentation from "@effect-smpp/schema/Segmentation"
import * as Text from "@effect-smpp/schema/Text"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as MemorySocket from "./MemorySocket.js"
import * as Session from "./Session.js"
import * as SmppClient from "./SmppClient.js"
import * as SmppServer from "./SmppServer.js"
import * as Transport from "./Transport.js"

/**
 * A receipt to push: its `stat:` word (default `DELIVRD`), `err:` and delay.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceiptOptions {
  /** Default: at once. */
  readonly delay?: Duration.DurationInput | undefined
  /** Default `DELIVRD`. */
  readonly stat?: string | undefined
  /** Default `000`. */
  readonly err?: string | undefined
}

/**
 * How the test SMSC behaves. Every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Script {
  /** The account the client binds with; default `test` / `test`. */
  readonly systemId?: string | undefined
  readonly password?: string | undefined
  /** The message_id of the n-th accepted submit (from 1); default `String(n)`. */
  readonly messageId?: ((n: number) => string) | undefined
  /** Push a receipt for every submit that asks for one (registered_delivery), after `delay`. */
  readonly receipts?: ReceiptOptions | boolean | undefined
  /** Handlers that replace the test SMSC's own (submit_sm included: the script's directives then do not apply). */
  readonly handlers?: SmppServer.Handlers | undefined
  /** Options of the SMSC's sessions. */
  readonly serverSession?: SmppServer.SessionOptions | undefined
  /** The SMSC's retry schedule of deliveries. */
  readonly deliverySchedule?: SmppServer.Config["deliverySchedule"]
  /** Cut what goes over the in-memory connection into chunks of at most this many octets. */
  readonly maxChunkSize?: number | undefined
  /** The client's config (connection and account fields are the kit's). */
  readonly client?: Partial<Omit<SmppClient.Config, "connect" | "host" | "port" | "tls" | "outbind">> | undefined
}

/**
 * A submit_sm the test SMSC received, and what it answered: the status, and the message_id
 * when accepted (`status` is undefined when the response was dropped).
 *
 * @since 0.1.0
 * @category models
 */
export interface Submitted {
  readonly pdu: Pdu.SubmitSm
  readonly status: number | undefined
  readonly messageId: string | undefined
  readonly sessionId: string
}

/**
 * An MO message to inject.
 *
 * @since 0.1.0
 * @category models
 */
export interface Mo {
  readonly from: string
  readonly to: string
  readonly text: string
  readonly dataCoding?: number | "auto" | undefined
  /** How to split long text; default `udh8`. */
  readonly splitting?: Segmentation.Method | undefined
}

/**
 * The test SMSC, to drive from a test.
 *
 * @since 0.1.0
 * @category models
 */
export interface Smsc {
  readonly server: SmppServer.SmppServer
  readonly systemId: string
  /** A new in-memory connection to this SMSC (what the kit's client connects with). */
  readonly connect: Transport.Dialer
  /** Every submit_sm received, in order, with its answer. */
  readonly submitted: Effect.Effect<ReadonlyArray<Submitted>>
  /** Answers the next `n` submit_sm with `status` (default ESME_RTHROTTLED). */
  readonly throttle: (n: number, status?: number) => Effect.Effect<void>
  /** Answers the next `n` submit_sm with `status`. */
  readonly reject: (n: number, status: number) => Effect.Effect<void>
  /** Leaves the next `n` submit_sm unanswered. */
  readonly dropResponses: (n: number) => Effect.Effect<void>
  /**
   * Pushes a delivery receipt for `messageId` after the delay, retried until acknowledged;
   * the fiber ends with the deliver_sm_resp.
   */
  readonly pushReceipt: (
    messageId: string,
    options?: ReceiptOptions
  ) => Effect.Effect<Fiber.RuntimeFiber<Pdu.DeliverSmResp, SmppServer.DeliveryError>>
  /** Delivers an MO message (in parts when long); answers once every part is acknowledged. */
  readonly injectMo: (mo: Mo) => Effect.Effect<void, SmppServer.DeliveryError>
  /** Aborts every session: the client sees its connection lost. */
  readonly disconnect: Effect.Effect<void>
  /** While false, connecting fails (a `TransportError`). */
  readonly setReachable: (reachable: boolean) => Effect.Effect<void>
  /** Connections made so far. */
  readonly connections: Effect.Effect<number>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Smsc: Context.Tag<Smsc, Smsc> = Context.GenericTag<Smsc>("@effect-smpp/runtime/TestKit/Smsc")

type Directive = { readonly status: number } | "drop"

const encodeText = (text: string): Uint8Array =>
  Either.getOrElse(Text.encode(text, 0), () => Text.encodeUcs2(text))

/**
 * Starts a test SMSC (no listener: connect to it with `connect`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSmsc = (script?: Script): Effect.Effect<Smsc, never, Scope.Scope> =>
  Effect.gen(function*() {
    const systemId = script?.systemId ?? "test"
    const password = script?.password ?? "test"
    const messageIdOf = script?.messageId ?? ((n: number) => String(n))
    const autoReceipts: ReceiptOptions | undefined = script?.receipts === true
      ? {}
      : script?.receipts === false
      ? undefined
      : script?.receipts
    const clock = yield* Effect.clock
    const fibers = yield* FiberSet.make<unknown, unknown>()
    const submitted: Array<Submitted> = []
    const byId = new Map<string, { readonly pdu: Pdu.SubmitSm; readonly at: number; state: number }>()
    const directives: Array<Directive> = []
    let accepted = 0
    let reachable = true
    let connections = 0

    const receiptPdu = (messageId: string, options: ReceiptOptions | undefined): Pdu.DeliverSm => {
      const stat = (options?.stat ?? "DELIVRD").toUpperCase()
      const state = MessageState.fromStatWord(stat) ?? MessageState.MessageState.UNKNOWN
      const original = byId.get(messageId)
      if (original !== undefined) original.state = state
      const now = clock.unsafeCurrentTimeMillis()
      const text = DeliveryReceipt.format({
        id: messageId,
        sub: "001",
        dlvrd: state === MessageState.MessageState.DELIVERED ? "001" : "000",
        submitDate: DeliveryReceipt.dateFromEpochMillis(original?.at ?? now),
        doneDate: DeliveryReceipt.dateFromEpochMillis(now),
        stat,
        err: options?.err ?? "000",
        text: original === undefined ? "" : Text.decode(original.pdu.shortMessage, original.pdu.dataCoding)
      })
      return Pdu.make("deliver_sm", {
        sourceAddrTon: original?.pdu.destAddrTon ?? 1,
        sourceAddrNpi: original?.pdu.destAddrNpi ?? 1,
        sourceAddr: original?.pdu.destinationAddr ?? "",
        destAddrTon: original?.pdu.sourceAddrTon ?? 0,
        destAddrNpi: original?.pdu.sourceAddrNpi ?? 0,
        destinationAddr: original?.pdu.sourceAddr ?? "",
        esmClass: 0x04,
        shortMessage: encodeText(text),
        tlvs: { receiptedMessageId: messageId, messageState: state }
      })
    }

    // `server` is needed by pushReceipt, which the handlers below use: bound after make.
    let server: SmppServer.SmppServer | undefined

    const pushReceipt = (
      messageId: string,
      options?: ReceiptOptions
    ): Effect.Effect<Fiber.RuntimeFiber<Pdu.DeliverSmResp, SmppServer.DeliveryError>> =>
      FiberSet.run(
        fibers,
        Effect.zipRight(
          Effect.sleep(options?.delay ?? Duration.zero),
          Effect.suspend(() => server!.deliver(systemId, receiptPdu(messageId, options)))
        )
      )

    const submitSm: NonNullable<SmppServer.Handlers["submit_sm"]> = (pdu, context) =>
      Effect.suspend((): Effect.Effect<SmppServer.HandlerResult<"submit_sm">> => {
        const directive = directives.shift()
        if (directive === "drop") {
          submitted.push({ pdu, status: undefined, messageId: undefined, sessionId: context.sessionId })
          return Effect.succeed(Session.noResponse)
        }
        if (directive !== undefined) {
          submitted.push({ pdu, status: directive.status, messageId: undefined, sessionId: context.sessionId })
          return Effect.succeed(directive.status)
        }
        const messageId = messageIdOf(++accepted)
        submitted.push({ pdu, status: CommandStatus.ESME_ROK, messageId, sessionId: context.sessionId })
        byId.set(messageId, { pdu, at: clock.unsafeCurrentTimeMillis(), state: MessageState.MessageState.ENROUTE })
        const response = Pdu.make("submit_sm_resp", { messageId })
        if (autoReceipts !== undefined && (pdu.registeredDelivery & 0x03) !== 0) {
          return Effect.as(pushReceipt(messageId, autoReceipts), response)
        }
        return Effect.succeed(response)
      })

    const handlers: SmppServer.Handlers = {
      submit_sm: submitSm,
      submit_multi: () => Effect.succeed(Pdu.make("submit_multi_resp", { messageId: messageIdOf(++accepted) })),
      data_sm: () => Effect.succeed(Pdu.make("data_sm_resp", { messageId: messageIdOf(++accepted) })),
      query_sm: (pdu) =>
        Effect.sync(() => {
          const known = byId.get(pdu.messageId)
          if (known === undefined) return CommandStatus.ESME_RQUERYFAIL
          return Pdu.make("query_sm_resp", { messageId: pdu.messageId, messageState: known.state })
        }),
      cancel_sm: (pdu) =>
        Effect.sync(() => (byId.has(pdu.messageId) ? CommandStatus.ESME_ROK : CommandStatus.ESME_RCANCELFAIL)),
      replace_sm: (pdu) =>
        Effect.sync(() => (byId.has(pdu.messageId) ? CommandStatus.ESME_ROK : CommandStatus.ESME_RREPLACEFAIL)),
      ...script?.handlers
    }

    server = yield* SmppServer.make({
      name: "test-smsc",
      authenticate: SmppServer.passwords({ [systemId]: password }),
      handlers,
      session: script?.serverSession,
      deliverySchedule: script?.deliverySchedule
    }).pipe(Effect.orDie)
    const running = server

    const connect: Transport.Dialer = Effect.suspend(() => {
      if (!reachable) {
        return Effect.fail(new Transport.TransportError({ reason: "Connect", address: "memory:test-smsc" }))
      }
      connections++
      return Effect.flatMap(
        MemorySocket.makePair(script?.maxChunkSize === undefined ? undefined : { maxChunkSize: script.maxChunkSize }),
        ([client, smsc]) =>
          Effect.as(running.handle(smsc, { peer: `memory:esme-${connections}` }), {
            socket: client,
            peer: "memory:test-smsc"
          })
      )
    })

    const injectMo = (mo: Mo): Effect.Effect<void, SmppServer.DeliveryError> =>
      Effect.suspend(() => {
        const parts = Segmentation.split(mo.text, {
          dataCoding: mo.dataCoding ?? "auto",
          method: mo.splitting ?? "udh8",
          reference: ++accepted & 0xff
        })
        if (Either.isLeft(parts)) return Effect.die(parts.left)
        return Effect.forEach(
          parts.right,
          (part) =>
            running.deliver(
              systemId,
              Pdu.make("deliver_sm", {
                sourceAddrTon: 1,
                sourceAddrNpi: 1,
                sourceAddr: mo.from,
                destinationAddr: mo.to,
                esmClass: part.esmClassUdhi ? 0x40 : 0,
                dataCoding: part.dataCoding,
                shortMessage: mo.splitting === "payload" ? new Uint8Array(0) : part.shortMessage,
                tlvs: {
                  ...(part.sar === undefined ? {} : {
                    sarMsgRefNum: part.sar.refNum,
                    sarTotalSegments: part.sar.total,
                    sarSegmentSeqnum: part.sar.seqNum
                  }),
                  ...(mo.splitting === "payload" ? { messagePayload: part.shortMessage } : {})
                }
              })
            ),
          { discard: true }
        )
      })

    const push = (n: number, directive: Directive) =>
      Effect.sync(() => {
        for (let i = 0; i < n; i++) directives.push(directive)
      })

    return {
      server: running,
      systemId,
      connect,
      submitted: Effect.sync(() => submitted.slice()),
      throttle: (n, status) => push(n, { status: status ?? CommandStatus.ESME_RTHROTTLED }),
      reject: (n, status) => push(n, { status }),
      dropResponses: (n) => push(n, "drop"),
      pushReceipt,
      injectMo,
      disconnect: Effect.flatMap(
        running.sessions,
        (sessions) => Effect.forEach(sessions, (info) => info.session.abort, { discard: true })
      ),
      setReachable: (value) =>
        Effect.sync(() => {
          reachable = value
        }),
      connections: Effect.sync(() => connections)
    } satisfies Smsc
  })

/**
 * The test SMSC alone, as a Layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSmsc = (script?: Script): Layer.Layer<Smsc> => Layer.scoped(Smsc, makeSmsc(script))

/**
 * A client for the test SMSC: `SmppClient.make` with the script's client config, connected
 * with `smsc.connect`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClient = (
  smsc: Smsc,
  script?: Script
): Effect.Effect<SmppClient.SmppClient, never, Scope.Scope> =>
  SmppClient.make({
    ...script?.client,
    systemId: script?.systemId ?? smsc.systemId,
    password: script?.password ?? "test",
    connect: smsc.connect
  }).pipe(Effect.orDie)

/**
 * The test SMSC and an `SmppClient` connected to it in memory.
 *
 * @since 0.1.0
 * @category layers
 */
export const smsc = (script?: Script): Layer.Layer<SmppClient.SmppClient | Smsc> =>
  Layer.provideMerge(
    Layer.scoped(SmppClient.SmppClient, Effect.flatMap(Smsc, (kit) => makeClient(kit, script))),
    layerSmsc(script)
  )

/**
 * Two sessions talking to each other in memory: an ESME and an SMSC, both OPEN.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sessionPair = (options?: {
  readonly esme?: Omit<Session.Options, "role"> | undefined
  readonly smsc?: Omit<Session.Options, "role"> | undefined
  readonly maxChunkSize?: number | undefined
}): Effect.Effect<{ readonly esme: Session.Session; readonly smsc: Session.Session }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const [a, b] = yield* MemorySocket.makePair(
      options?.maxChunkSize === undefined ? undefined : { maxChunkSize: options.maxChunkSize }
    )
    const smsc = yield* Session.make(b, { ...options?.smsc, role: "smsc" })
    const esme = yield* Session.make(a, { ...options?.esme, role: "esme" })
    return { esme, smsc }
  })
