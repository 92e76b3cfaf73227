/**
 * The ESME client: one manager fiber connects, binds, serves the session until it ends, and
 * starts over on the reconnect schedule. Callers find the bound session in a variable (no
 * effect on the hot path) and wait on a signal only while there is none.
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as DataCoding from "@effect-smpp/schema/DataCoding"
import * as DeliveryReceipt from "@effect-smpp/schema/DeliveryReceipt"
import * as MessageStateModule from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Reassembly from "@effect-smpp/schema/Reassembly"
import * as Segmentation from "@effect-smpp/schema/Segmentation"
import * as SmppTime from "@effect-smpp/schema/SmppTime"
import * as Text from "@effect-smpp/schema/Text"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as BindState from "../BindState.js"
import * as Resend from "../Resend.js"
import * as Session from "../Session.js"
import * as internalSession from "./session.js"
import type * as SmppClient from "../SmppClient.js"
import { ConnectionError, ConnectionState, NotBound, SubmitError } from "../SmppClient.js"
import * as Transport from "../Transport.js"

// ---------------------------------------------------------------------------------------------
// building submit_sm

const EMPTY = new Uint8Array(0)
const DIGITS = /^[0-9]+$/

interface ResolvedAddress {
  readonly addr: string
  readonly ton: number
  readonly npi: number
}

const resolveAddress = (address: string | SmppClient.Address): ResolvedAddress => {
  const raw = typeof address === "string" ? address : address.addr
  const plus = raw.startsWith("+")
  const digits = plus ? raw.slice(1) : raw
  const numeric = DIGITS.test(digits)
  const addr = numeric ? digits : raw
  const ton = typeof address === "string" || address.ton === undefined ? (numeric ? 1 : 5) : address.ton
  const npi = typeof address === "string" || address.npi === undefined ? (numeric ? 1 : 0) : address.npi
  return { addr, ton, npi }
}

const two = (n: number): number => Math.min(99, Math.floor(n))

/** An SMPP time string as it is, or a duration as a relative time. */
const timeOf = (input: string | Duration.DurationInput | undefined): string => {
  if (input === undefined) return ""
  if (typeof input === "string" && SmppTime.isTimeString(input)) return input
  const decoded = Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) return typeof input === "string" ? input : ""
  let seconds = Math.floor(Duration.toMillis(decoded.value) / 1000)
  const days = Math.floor(seconds / 86400)
  seconds -= days * 86400
  const hours = Math.floor(seconds / 3600)
  seconds -= hours * 3600
  const minutes = Math.floor(seconds / 60)
  seconds -= minutes * 60
  return SmppTime.format(
    SmppTime.relative({ years: 0, months: 0, days: two(days), hours, minutes, seconds })
  )
}

class InvalidMessage {
  constructor(readonly cause: unknown) {}
}

/** The submit_sm of every part of a message, and its data_coding. */
export const buildSubmits = (
  message: SmppClient.Message,
  reference: number
): Either.Either<{ readonly pdus: ReadonlyArray<Pdu.SubmitSm>; readonly dataCoding: number }, InvalidMessage> => {
  const method = message.splitting ?? "udh8"
  let parts: Either.Either<ReadonlyArray<Segmentation.Part>, unknown>
  if (message.text !== undefined) {
    parts = Segmentation.split(message.text, { dataCoding: message.dataCoding ?? "auto", method, reference })
  } else if (message.bytes !== undefined) {
    parts = Segmentation.splitBytes(message.bytes, message.dataCoding ?? DataCoding.DataCoding.OCTET, {
      method,
      reference
    })
  } else {
    return Either.left(new InvalidMessage(new Error("a message needs text or bytes")))
  }
  if (Either.isLeft(parts)) return Either.left(new InvalidMessage(parts.left))
  const source = resolveAddress(message.from)
  const destination = resolveAddress(message.to)
  const registeredDelivery = message.registeredDelivery === true
    ? 1
    : message.registeredDelivery === false || message.registeredDelivery === undefined
    ? 0
    : message.registeredDelivery
  const validityPeriod = timeOf(message.validity)
  const scheduleDeliveryTime = timeOf(message.scheduleDelivery)
  const esmClass = message.esmClass ?? 0
  const pdus = parts.right.map((part) => {
    let tlvs: Pdu.SubmitSm["tlvs"] = message.tlvs ?? {}
    if (part.sar !== undefined) {
      tlvs = {
        ...tlvs,
        sarMsgRefNum: part.sar.refNum,
        sarTotalSegments: part.sar.total,
        sarSegmentSeqnum: part.sar.seqNum
      }
    }
    const payload = method === "payload"
    if (payload) tlvs = { ...tlvs, messagePayload: part.shortMessage }
    return Pdu.make("submit_sm", {
      serviceType: message.serviceType ?? "",
      sourceAddrTon: source.ton,
      sourceAddrNpi: source.npi,
      sourceAddr: source.addr,
      destAddrTon: destination.ton,
      destAddrNpi: destination.npi,
      destinationAddr: destination.addr,
      esmClass: part.esmClassUdhi ? esmClass | 0x40 : esmClass,
      protocolId: message.protocolId ?? 0,
      priorityFlag: message.priority ?? 0,
      scheduleDeliveryTime,
      validityPeriod,
      registeredDelivery,
      dataCoding: part.dataCoding,
      shortMessage: payload ? EMPTY : part.shortMessage,
      tlvs
    })
  })
  return Either.right({ pdus, dataCoding: parts.right[0]?.dataCoding ?? 0 })
}

// ---------------------------------------------------------------------------------------------
// reading deliveries

const addressOf = (addr: string, ton: number, npi: number): SmppClient.ReceivedAddress => ({ addr, ton, npi })

const userDataOf = (pdu: Pdu.DeliverSm | Pdu.DataSm): Uint8Array =>
  pdu._tag === "deliver_sm" && pdu.shortMessage.length > 0 ? pdu.shortMessage : pdu.tlvs.messagePayload ?? EMPTY

/** The receipt a PDU carries, if it is one (by esm_class, or by receipted_message_id). */
export const receiptOf = (pdu: Pdu.DeliverSm | Pdu.DataSm, sessionId: string): SmppClient.Receipt | undefined => {
  const type = pdu.esmClass & 0x3c
  const tlvs = pdu.tlvs
  if (type !== 0x04 && type !== 0x08 && type !== 0x10 && type !== 0x20 && tlvs.receiptedMessageId === undefined) {
    return undefined
  }
  const data = userDataOf(pdu)
  const parsed = data.length === 0
    ? undefined
    : Either.getOrUndefined(DeliveryReceipt.parse(Text.decode(data, pdu.dataCoding)))
  const messageId = tlvs.receiptedMessageId ?? parsed?.id
  if (messageId === undefined) return undefined
  const tlvState = tlvs.messageState
  return {
    _tag: "Receipt",
    messageId,
    state: tlvState !== undefined && MessageStateModule.isMessageState(tlvState) ? tlvState : parsed?.messageState,
    stat: parsed?.stat,
    error: parsed?.err,
    networkErrorCode: tlvs.networkErrorCode,
    receipt: parsed,
    source: addressOf(pdu.sourceAddr, pdu.sourceAddrTon, pdu.sourceAddrNpi),
    destination: addressOf(pdu.destinationAddr, pdu.destAddrTon, pdu.destAddrNpi),
    pdu,
    sessionId
  }
}

// ---------------------------------------------------------------------------------------------
// requests

/** One failed attempt: the outcome the retry policy sees (none: not retryable). */
class Attempt {
  constructor(
    readonly outcome: Resend.Outcome | undefined,
    readonly error: SmppClient.CallError | undefined,
    readonly response: Session.Response | undefined
  ) {}
}

const attemptOf = (error: SmppClient.CallError): Attempt => {
  switch (error._tag) {
    case "NotBound":
    case "EncodeError":
      return new Attempt(undefined, error, undefined)
    case "GenericNack":
      return new Attempt(error.status, error, undefined)
    case "SessionClosed":
    case "ResponseTimeout":
    case "WindowTimeout":
    case "MalformedResponse":
    case "InvalidBindState":
      // No answer (or a session going away before it could answer): as a timeout.
      return new Attempt("timeout", error, undefined)
  }
}

const submitErrorOf = (attempt: Attempt, part: number, parts: number, messageIds: ReadonlyArray<string | undefined>) => {
  const common = { part, parts, messageIds }
  if (attempt.response !== undefined) {
    return new SubmitError({ ...common, reason: "Rejected", status: attempt.response.commandStatus })
  }
  const error = attempt.error!
  switch (error._tag) {
    case "GenericNack":
      return new SubmitError({ ...common, reason: "Rejected", status: error.status, cause: error })
    case "NotBound":
      return new SubmitError({ ...common, reason: "NotBound", cause: error })
    case "EncodeError":
      return new SubmitError({ ...common, reason: "InvalidMessage", cause: error })
    default:
      return new SubmitError({ ...common, reason: "NoResponse", cause: error })
  }
}

interface Waiting {
  readonly delivery: SmppClient.Delivery
  /** Answered once; later calls are ignored. */
  resolve: (ok: boolean) => void
  cancelled: boolean
}

let clientCounter = 0

// ---------------------------------------------------------------------------------------------

/** @internal */
export const make = <R>(
  config: SmppClient.Config<R>
): Effect.Effect<SmppClient.SmppClient, Transport.TransportError, Scope.Scope | R> =>
  Effect.gen(function*() {
    const clock = yield* Effect.clock
    const name = config.name ?? "esme"
    const clientId = ++clientCounter
    const kind: BindState.BindKind = config.outbind !== undefined ? "receiver" : config.bindKind ?? "transceiver"
    const canSend = kind !== "receiver"
    const requestTimeout = Duration.decode(config.requestTimeout ?? "30 seconds")
    const deliveryTimeout = Duration.decode(config.deliveryTimeout ?? "10 seconds")
    const reassemblyTimeout = Duration.toMillis(config.reassemblyTimeout ?? "10 minutes")
    const submitPolicy = config.submitRetry ?? Resend.clientPolicy()
    const reconnect: Schedule.Schedule<unknown, ConnectionError> = config.reconnect ??
      Resend.backoff({ base: "1 second", factor: 2, cap: "30 seconds" })
    const outbindTimeout = Duration.decode(config.outbind?.timeout ?? "30 seconds")

    // --- how to get a connection
    let outbindAddress: Transport.Address | undefined
    let dial: Transport.Dialer
    if (config.outbind !== undefined) {
      if ("accept" in config.outbind) {
        dial = config.outbind.accept
      } else {
        const listener = yield* Transport.listen({
          host: config.outbind.host,
          port: config.outbind.port,
          tls: config.outbind.tls
        })
        outbindAddress = listener.address
        dial = listener.accept
      }
    } else if (config.connect !== undefined) {
      dial = config.connect
    } else if (config.host !== undefined && config.port !== undefined) {
      dial = Transport.connect({ host: config.host, port: config.port, tls: config.tls, timeout: config.connectTimeout })
    } else {
      return yield* Effect.dieMessage("SmppClient: give host and port, connect, or outbind")
    }

    // --- connection state
    const stateRef = yield* SubscriptionRef.make<SmppClient.ConnectionState>(ConnectionState.Connecting({ attempt: 1 }))
    let current: Session.Session | undefined
    let stopped = false
    let lastError: ConnectionError | undefined
    let boundSignal = Deferred.unsafeMake<void>(FiberId.none)
    const wake = (): void => {
      const previous = boundSignal
      boundSignal = Deferred.unsafeMake<void>(FiberId.none)
      Deferred.unsafeDone(previous, Exit.void)
    }

    const waitBound: Effect.Effect<Session.Session, NotBound> = Effect.suspend(() =>
      current !== undefined
        ? Effect.succeed(current)
        : stopped
        ? Effect.fail(new NotBound({ reason: "Stopped", cause: lastError }))
        : Effect.zipRight(Deferred.await(boundSignal), waitBound)
    )
    const awaitSession: Effect.Effect<Session.Session, NotBound> = Effect.suspend(() =>
      current !== undefined
        ? Effect.succeed(current)
        : stopped
        ? Effect.fail(new NotBound({ reason: "Stopped", cause: lastError }))
        : Effect.timeoutFail(waitBound, {
          duration: requestTimeout,
          onTimeout: () => new NotBound({ reason: "Timeout", cause: lastError })
        })
    )

    // --- deliveries
    const waiting = yield* Queue.unbounded<Waiting>()
    let consumers = 0
    let reassembly = Reassembly.empty

    const dispatch = (delivery: SmppClient.Delivery): Effect.Effect<boolean> => {
      if (config.onDelivery !== undefined) {
        return Effect.suspend(() => config.onDelivery!(delivery) as Effect.Effect<void, unknown>).pipe(
          Effect.matchCauseEffect({
            onFailure: (cause) =>
              Effect.as(Effect.logWarning("onDelivery failed: answering ESME_RX_T_APPN", cause), false),
            onSuccess: () => Effect.succeed(true)
          })
        )
      }
      // Nobody to take it: the SMSC keeps it and sends it again later.
      if (consumers === 0) return Effect.succeed(false)
      let item: Waiting | undefined
      return Effect.async<boolean>((resume) => {
        let done = false
        item = {
          delivery,
          cancelled: false,
          resolve: (ok) => {
            if (done) return
            done = true
            resume(Effect.succeed(ok))
          }
        }
        waiting.unsafeOffer(item)
        return Effect.sync(() => {
          done = true
          item!.cancelled = true
        })
      }).pipe(
        Effect.timeout(deliveryTimeout),
        Effect.catchAll(() =>
          Effect.sync(() => {
            if (item !== undefined) item.cancelled = true
            return false
          })
        )
      )
    }

    /** The next delivery still waiting for an answer. */
    const takeLive: Effect.Effect<Waiting> = Effect.flatMap(
      Queue.take(waiting),
      (item) => (item.cancelled ? takeLive : Effect.succeed(item))
    )

    const addConsumer = Effect.sync(() => {
      consumers++
    })
    const removeConsumer = Effect.flatMap(
      Effect.sync(() => --consumers),
      (left) =>
        left > 0 ? Effect.void : Effect.map(Queue.takeAll(waiting), (items) => {
          for (const item of items) item.resolve(false)
        })
    )

    const handleDeliveries = <E, R2>(
      handler: (delivery: SmppClient.Delivery) => Effect.Effect<void, E, R2>
    ): Effect.Effect<never, never, R2> =>
      Effect.acquireUseRelease(
        addConsumer,
        () =>
          Effect.forever(
            Effect.flatMap(takeLive, (item) =>
              Effect.suspend(() => handler(item.delivery)).pipe(
                Effect.onExit((exit) => Effect.sync(() => item.resolve(Exit.isSuccess(exit)))),
                Effect.catchAllCause((cause) =>
                  Cause.isInterruptedOnly(cause)
                    ? Effect.failCause(cause)
                    : Effect.logWarning("delivery handler failed: answering ESME_RX_T_APPN", cause)
                )
              ))
          ) as Effect.Effect<never, never, R2>,
        () => removeConsumer
      )

    const deliveries: Stream.Stream<SmppClient.Delivery> = Stream.unwrapScoped(
      Effect.gen(function*() {
        let previous: Waiting | undefined
        yield* Effect.acquireRelease(addConsumer, () => removeConsumer)
        // The one being processed when the stream ends: done if it ended well.
        yield* Effect.addFinalizer((exit) =>
          Effect.sync(() => {
            previous?.resolve(Exit.isSuccess(exit))
            previous = undefined
          })
        )
        return Stream.repeatEffect(
          Effect.suspend(() => {
            previous?.resolve(true)
            previous = undefined
            return Effect.map(takeLive, (item) => {
              previous = item
              return item.delivery
            })
          })
        )
      })
    )

    const answer = (ok: boolean): number => (ok ? CommandStatus.ESME_ROK : CommandStatus.ESME_RX_T_APPN)

    const onInbound = (pdu: Pdu.DeliverSm | Pdu.DataSm, session: Session.Session): Effect.Effect<number> => {
      const receipt = receiptOf(pdu, session.id)
      if (receipt !== undefined) return Effect.map(dispatch(receipt), answer)
      const tlvs = pdu.tlvs
      const sar = tlvs.sarMsgRefNum !== undefined && tlvs.sarTotalSegments !== undefined &&
          tlvs.sarSegmentSeqnum !== undefined
        ? { refNum: tlvs.sarMsgRefNum, total: tlvs.sarTotalSegments, seqNum: tlvs.sarSegmentSeqnum }
        : undefined
      const data = userDataOf(pdu)
      const extracted = Reassembly.extract({ shortMessage: data, udhi: (pdu.esmClass & 0x40) !== 0, sar })
      const source = addressOf(pdu.sourceAddr, pdu.sourceAddrTon, pdu.sourceAddrNpi)
      const destination = addressOf(pdu.destinationAddr, pdu.destAddrTon, pdu.destAddrNpi)
      const mo = (payload: Uint8Array, parts: number): SmppClient.MoMessage => ({
        _tag: "MoMessage",
        source,
        destination,
        text: Text.decode(payload, pdu.dataCoding),
        payload,
        dataCoding: pdu.dataCoding,
        parts,
        pdu,
        sessionId: session.id
      })
      // A malformed UDH: the message as it came.
      if (Either.isLeft(extracted)) return Effect.map(dispatch(mo(data, 1)), answer)
      const concat = extracted.right.concat
      if (concat === undefined || concat.total <= 1) {
        return Effect.map(dispatch(mo(extracted.right.payload, 1)), answer)
      }
      const now = clock.unsafeCurrentTimeMillis()
      for (const stale of Reassembly.olderThan(reassembly, now - reassemblyTimeout)) {
        reassembly = Reassembly.drop(reassembly, stale)
      }
      const key = Reassembly.key(source.addr, destination.addr, concat.reference)
      const added = Reassembly.add(reassembly, {
        key,
        total: concat.total,
        seqNum: concat.seqNum,
        payload: extracted.right.payload,
        dataCoding: pdu.dataCoding,
        receivedAt: now
      })
      switch (added.status) {
        case "Pending":
        case "Restarted":
          // Held in memory; acknowledged now, since the SMSC may wait for it before the next part.
          reassembly = added.state
          return Effect.succeed(CommandStatus.ESME_ROK)
        case "Duplicate":
          return Effect.succeed(CommandStatus.ESME_ROK)
        case "Invalid":
          return Effect.map(dispatch(mo(extracted.right.payload, 1)), answer)
        case "Completed": {
          const message = added.completed!
          return Effect.map(dispatch(mo(message.payload, message.total)), (ok) => {
            // Forgotten only once taken: if not, the SMSC sends this last part again and it
            // completes the message again.
            if (ok) reassembly = Reassembly.drop(reassembly, key)
            return answer(ok)
          })
        }
      }
    }

    const handlerFor = (outbindSignal: Deferred.Deferred<Pdu.Outbind>): Session.Handler => (request, session) => {
      switch (request._tag) {
        case "deliver_sm":
        case "data_sm":
          return onInbound(request, session)
        case "outbind":
          Deferred.unsafeDone(outbindSignal, Exit.succeed(request))
          return Effect.succeed(Session.noResponse)
        case "alert_notification":
          return Effect.as(Effect.logInfo(`alert_notification for ${request.esmeAddr}`), Session.noResponse)
        default:
          return Effect.succeed(CommandStatus.ESME_RINVCMDID)
      }
    }

    // --- connecting

    const bindPdu = Pdu.make(BindState.bindCommandOf(kind), {
      systemId: config.systemId,
      password: config.password,
      systemType: config.systemType ?? "",
      interfaceVersion: config.interfaceVersion ?? 0x34,
      addrTon: config.addrTon ?? 0,
      addrNpi: config.addrNpi ?? 0,
      addressRange: config.addressRange ?? ""
    })

    let sessionCounter = 0

    /** One connection: connect, bind, serve until the session ends. Fails with why it ended. */
    const connectOnce = (onBound: () => void): Effect.Effect<never, ConnectionError> =>
      Effect.scoped(
        Effect.gen(function*() {
          const connection = yield* Effect.mapError(dial, (cause) => new ConnectionError({ reason: "ConnectFailed", cause }))
          const outbindSignal = yield* Deferred.make<Pdu.Outbind>()
          const session = yield* internalSession.makeFor(connection, {
            enquireLinkInterval: "30 seconds",
            maxMissedEnquireLinks: 3,
            ...config.session,
            role: "esme",
            id: `${name}-${clientId}.${++sessionCounter}`,
            peer: connection.peer,
            handler: handlerFor(outbindSignal)
          })
          const lost = Effect.flatMap(
            session.closed,
            (cause) => Effect.fail(new ConnectionError({ reason: "ConnectionLost", cause }))
          )
          if (config.outbind !== undefined) {
            yield* Deferred.await(outbindSignal).pipe(
              Effect.raceFirst(lost),
              Effect.timeoutFail({
                duration: outbindTimeout,
                onTimeout: () => new ConnectionError({ reason: "OutbindTimeout" })
              })
            )
          }
          const response = yield* Effect.mapError(
            session.request(bindPdu),
            (cause) => new ConnectionError({ reason: "BindFailed", cause })
          )
          if (response.commandStatus !== CommandStatus.ESME_ROK) {
            return yield* new ConnectionError({ reason: "BindRefused", status: response.commandStatus })
          }
          if (!stopped) current = session
          onBound()
          wake()
          yield* SubscriptionRef.set(
            stateRef,
            ConnectionState.Bound({ kind, sessionId: session.id, peer: connection.peer })
          )
          yield* Effect.logInfo(`bound as ${kind} to ${connection.peer}`)
          // Unbinding (either side) stops new requests at once, before the session is closed.
          yield* Effect.forkScoped(
            Stream.runForEach(session.stateChanges, (state) =>
              Effect.sync(() => {
                if (!BindState.isBound(state) && current === session) current = undefined
              }))
          )
          return yield* lost
        })
      )

    const manager = Effect.gen(function*() {
      const driver = yield* Schedule.driver(reconnect)
      let attempt = 0
      while (true) {
        attempt++
        yield* SubscriptionRef.set(stateRef, ConnectionState.Connecting({ attempt }))
        let bound = false
        const error = yield* Effect.flip(connectOnce(() => {
          bound = true
        }))
        current = undefined
        lastError = error
        if (bound) {
          // A bound session ended: the backoff starts over.
          yield* driver.reset
          attempt = 0
        }
        yield* SubscriptionRef.set(stateRef, ConnectionState.Disconnected({ error, attempt }))
        yield* Effect.logWarning(`disconnected: ${error.message}`)
        const next = yield* Effect.either(driver.next(error))
        if (Either.isLeft(next)) {
          yield* Effect.logError("the reconnect schedule gave up")
          return
        }
      }
    }).pipe(
      Effect.ensuring(Effect.suspend(() => {
        stopped = true
        current = undefined
        wake()
        return SubscriptionRef.set(stateRef, ConnectionState.Stopped({ error: lastError }))
      })),
      Effect.annotateLogs({ module: "SmppClient", client: `${name}-${clientId}` })
    )

    yield* Effect.forkScoped(manager)
    // Runs before the manager is interrupted: new requests fail at once while the session
    // drains what is in flight and unbinds.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        stopped = true
        current = undefined
        wake()
      })
    )

    // --- calls

    /** `pdu` on the bound session, or on the next one bound (bounded by `requestTimeout`). */
    const onSession = (
      pdu: SmppClient.Request,
      options: Session.RequestOptions | undefined
    ): Effect.Effect<Session.Response, SmppClient.CallError> =>
      Effect.suspend(() =>
        current !== undefined
          ? current.request(pdu, options)
          : Effect.flatMap(awaitSession, (session) => session.request(pdu, options))
      )

    const attemptOnce = (
      pdu: SmppClient.Request,
      options: Session.RequestOptions | undefined
    ): Effect.Effect<Session.Response, Attempt> =>
      onSession(pdu, options).pipe(
        Effect.matchEffect({
          onFailure: (error) => Effect.fail(attemptOf(error)),
          onSuccess: (response: Session.Response) =>
            response.commandStatus === CommandStatus.ESME_ROK
              ? Effect.succeed(response)
              : Effect.fail(new Attempt(response.commandStatus, undefined, response))
        })
      )

    /**
     * `attempt`, tried again on `policy` while it fails with an outcome, until the schedule is
     * done (as `Effect.retry`). The schedule is set up only after a first failure: a driver per
     * message (its state, a Clock lookup) cost more than the request, and most requests succeed
     * at once (measured: `submit` at window 100 went from 63–67k to 130–150k messages/s).
     */
    const withRetry = (
      attempt: Effect.Effect<Session.Response, Attempt>,
      policy: Schedule.Schedule<unknown, Resend.Outcome> | undefined
    ): Effect.Effect<Session.Response, Attempt> =>
      policy === undefined ? attempt : Effect.catchAll(attempt, (first) =>
        first.outcome === undefined ? Effect.fail(first) : Effect.flatMap(Schedule.driver(policy), (driver) => {
          const again = (failed: Attempt): Effect.Effect<Session.Response, Attempt> =>
            Effect.matchEffect(driver.next(failed.outcome!), {
              // the schedule is done: the last failure stands
              onFailure: () => Effect.fail(failed),
              onSuccess: () =>
                Effect.catchAll(attempt, (next) => next.outcome === undefined ? Effect.fail(next) : again(next))
            })
          return again(first)
        }))

    const requestOptionsOf = (timeout: Duration.DurationInput | undefined): Session.RequestOptions | undefined =>
      timeout === undefined ? undefined : { timeout }

    const request = <Req extends SmppClient.Request>(
      pdu: Req,
      options?: SmppClient.CallOptions
    ): Effect.Effect<Session.ResponseOf<Req>, SmppClient.CallError> => {
      if (!canSend && pdu._tag !== "enquire_link") return Effect.fail(new NotBound({ reason: "ReceiverOnly" }))
      if (options?.retry === undefined) {
        // One attempt: the bound session's answer as it is (the path of every raw call).
        return onSession(pdu, requestOptionsOf(options?.timeout)) as Effect.Effect<
          Session.ResponseOf<Req>,
          SmppClient.CallError
        >
      }
      return withRetry(attemptOnce(pdu, requestOptionsOf(options?.timeout)), options?.retry).pipe(
        // A response is the answer whatever its status; only a missing one is an error.
        Effect.catchAll((failed) =>
          failed.response !== undefined ? Effect.succeed(failed.response) : Effect.fail(failed.error!)
        )
      ) as Effect.Effect<Session.ResponseOf<Req>, SmppClient.CallError>
    }

    const runtime = yield* Effect.runtime<never>()
    const unsafeRequest = <Req extends SmppClient.Request>(
      pdu: Req,
      onDone: (exit: Exit.Exit<Session.ResponseOf<Req>, SmppClient.CallError>) => void,
      options?: { readonly timeout?: Duration.DurationInput | undefined }
    ): void => {
      if (current !== undefined && (canSend || pdu._tag === "enquire_link")) {
        current.unsafeRequest(pdu, onDone, requestOptionsOf(options?.timeout))
      } else {
        // Not bound (or not allowed): the effect path waits or fails as `request` does.
        Runtime.runCallback(runtime)(request(pdu, options), { onExit: onDone })
      }
    }

    let reference = Math.floor(clock.unsafeCurrentTimeMillis()) & 0xffff

    const submit = (
      message: SmppClient.Message,
      options?: SmppClient.SubmitOptions
    ): Effect.Effect<SmppClient.Submitted, SubmitError> =>
      Effect.suspend(() => {
        if (!canSend) {
          return Effect.fail(
            new SubmitError({
              reason: "NotBound",
              part: 0,
              parts: 0,
              messageIds: [],
              cause: new NotBound({ reason: "ReceiverOnly" })
            })
          )
        }
        reference = (reference + 1) & 0xffff
        const built = buildSubmits(message, reference)
        if (Either.isLeft(built)) {
          return Effect.fail(
            new SubmitError({ reason: "InvalidMessage", part: 0, parts: 0, messageIds: [], cause: built.left.cause })
          )
        }
        const { dataCoding, pdus } = built.right
        const policy = options?.retry ?? submitPolicy
        const requestOptions = requestOptionsOf(options?.timeout)
        const send = (pdu: Pdu.SubmitSm) => withRetry(attemptOnce(pdu, requestOptions), policy)
        if (pdus.length === 1) {
          return Effect.matchEffect(send(pdus[0]!), {
            onFailure: (failed) => Effect.fail(submitErrorOf(failed, 0, 1, [undefined])),
            onSuccess: (response) =>
              Effect.succeed({ messageIds: [(response as Pdu.SubmitSmResp).messageId ?? ""], dataCoding })
          })
        }
        // Every part at once: the session's window decides how many are in flight.
        return Effect.flatMap(
          Effect.forEach(pdus, (pdu) => Effect.either(send(pdu)), { concurrency: "unbounded" }),
          (results) => {
            const messageIds = results.map((result) =>
              Either.isRight(result) ? (result.right as Pdu.SubmitSmResp).messageId ?? "" : undefined
            )
            const failed = results.findIndex(Either.isLeft)
            if (failed < 0) return Effect.succeed({ messageIds: messageIds as Array<string>, dataCoding })
            const attempt = (results[failed] as Either.Left<Attempt, Session.Response>).left
            return Effect.fail(submitErrorOf(attempt, failed, pdus.length, messageIds))
          }
        )
      })

    const client: SmppClient.SmppClient = {
      submit,
      request,
      unsafeRequest,
      submitSm: (pdu, options) => request(pdu, options),
      submitMulti: (pdu, options) => request(pdu, options),
      dataSm: (pdu, options) => request(pdu, options),
      querySm: (pdu, options) => request(pdu, options),
      cancelSm: (pdu, options) => request(pdu, options),
      replaceSm: (pdu, options) => request(pdu, options),
      deliveries,
      handleDeliveries,
      state: SubscriptionRef.get(stateRef),
      stateChanges: stateRef.changes,
      awaitBound: Effect.asVoid(awaitSession),
      session: Effect.sync(() => Option.fromNullable(current)),
      disconnect: Effect.suspend(() => (current === undefined ? Effect.void : Effect.asVoid(current.close))),
      outbindAddress
    }
    return client
  })
