/**
 * The pump from connectors to customers: each connector event becomes what the customer
 * gets back.
 *
 * - An outcome (`OutcomeEvent`) sets the message's final state in the store
 *   (`MessageStore.updateState`, a no-op for a message already final) and, when the
 *   message's registered_delivery asks for it — bits 1–0: 1 on any final outcome, 2 on
 *   failure only — queues a delivery receipt in the `DeliveryQueue`: a deliver_sm with
 *   esm_class 0x04, the appendix B text (`id:… sub:001 dlvrd:… submit date:… done date:…
 *   stat:… err:… text:…`) and the receipted_message_id / message_state TLVs.
 * - An MO (`MoEvent`) is queued for its account as a deliver_sm (the `Deliverer` turns it
 *   into a data_sm for accounts that ask for that).
 * - Validity: a sweeper on the Clock sets messages still ENROUTE past their validity period
 *   EXPIRED, with a receipt when asked.
 *
 * Events are taken a chunk at a time: a chunk's states (one multi-row UPDATE, which also marks
 * the receipts queued), the receipts they call for and its MOs are written in one transaction,
 * one commit for the lot (`MessageStore.writeStates`, `DeliveryQueue.writeAll`); the receipts
 * are built from the message an outcome carries (the simulator's do) rather than read back,
 * and go to the account's deliverer without a `take` when it has room (its claim) — a chunk
 * of one event too. Should a chunk's transaction fail, each event goes through the batched
 * `updateState` then `enqueue` (`finish`, as the validity sweep does), the state committed
 * before the receipt is queued; a crash in between is repaired on start: final messages that asked for a receipt within the
 * delivery TTL and never got one queued are given it then (a partial index keeps those few
 * rows apart), before the pump takes new events. The pump runs with the tracer off.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as DataCoding from "@effect-smpp/schema/DataCoding"
import * as DeliveryReceipt from "@effect-smpp/schema/DeliveryReceipt"
import { MessageState, toStatWord } from "@effect-smpp/schema/MessageState"
import * as Text from "@effect-smpp/schema/Text"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { ConnectorEvent, MoEvent } from "./Connector.js"
import { Connectors } from "./Connectors.js"
import {
  type DeliverSmFields,
  type DeliveryItem,
  DeliveryQueue,
  type EnqueueRequest,
  type DeliveryQueueError
} from "./DeliveryQueue.js"
import { GatewayConfig } from "./GatewayConfig.js"
import { type Message, MessageStore, type MessageStoreError, type StateUpdate } from "./MessageStore.js"

// ---------------------------------------------------------------------------
// pure helpers

/**
 * Whether a message with this registered_delivery gets a receipt for this state: bits 1–0
 * 1 → on any final outcome, 2 → on failure only (anything but DELIVERED); a cancelled
 * (DELETED) message gets none, the customer asked for that itself.
 *
 * @since 0.1.0
 * @category receipts
 */
export const wantsReceipt = (registeredDelivery: number, state: number): boolean => {
  if (state === MessageState.ENROUTE || state === MessageState.DELETED) return false
  switch (registeredDelivery & 0x03) {
    case 1:
      return true
    case 2:
      return state !== MessageState.DELIVERED
    default:
      return false
  }
}

const UDHI = 0x40

// the first characters of the message, for the receipt's `text:` (none for binary content)
const textOf = (message: Message): string => {
  if (DataCoding.alphabet(message.dataCoding) === "Octet") return ""
  let body = message.body
  if ((message.esmClass & UDHI) !== 0 && body.length > 0) body = body.subarray(Math.min(body.length, body[0] + 1))
  // 20 characters take at most 40 octets (UCS-2), 40 with GSM escapes
  return Text.decode(body.subarray(0, 40), message.dataCoding).slice(0, DeliveryReceipt.TEXT_LENGTH)
}

const plain = (text: string): string => {
  let out = ""
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    out += (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x20
      ? text[i]
      : "?"
  }
  return out
}

/**
 * The receipt text of a final message (appendix B layout, dates on the UTC calendar).
 *
 * @since 0.1.0
 * @category receipts
 */
export const receiptText = (message: Message, text: string = textOf(message)): string =>
  DeliveryReceipt.format({
    id: message.id,
    sub: "001",
    dlvrd: message.state === MessageState.DELIVERED ? "001" : "000",
    submitDate: DeliveryReceipt.dateFromEpochMillis(message.createdAt),
    doneDate: DeliveryReceipt.dateFromEpochMillis(message.doneAt ?? message.updatedAt),
    stat: toStatWord(message.state) ?? "UNKNOWN",
    err: String(message.errorCode),
    text
  })

/**
 * The deliver_sm of a message's receipt: from the handset (the message's destination) to
 * the message's source, esm_class 0x04, the text in the SMSC default alphabet, and the
 * receipted_message_id and message_state TLVs.
 *
 * @since 0.1.0
 * @category receipts
 */
export const receiptFields = (message: Message): DeliverSmFields => {
  let encoded = Text.encode(receiptText(message), DataCoding.DataCoding.SMSC_DEFAULT)
  // a text the default alphabet cannot carry is written with its letters and digits only
  if (Either.isLeft(encoded)) {
    encoded = Text.encode(receiptText(message, plain(textOf(message))), DataCoding.DataCoding.SMSC_DEFAULT)
  }
  return {
    serviceType: message.serviceType,
    sourceAddrTon: message.destAddrTon,
    sourceAddrNpi: message.destAddrNpi,
    sourceAddr: message.destinationAddr,
    destAddrTon: message.sourceAddrTon,
    destAddrNpi: message.sourceAddrNpi,
    destinationAddr: message.sourceAddr,
    esmClass: 0x04,
    dataCoding: DataCoding.DataCoding.SMSC_DEFAULT,
    shortMessage: Either.getOrElse(encoded, () => new Uint8Array(0)),
    tlvs: { receiptedMessageId: message.id, messageState: message.state }
  }
}

const SHORT_MESSAGE_MAX = 254

/**
 * The deliver_sm of an MO: its body in short_message, or in message_payload when longer
 * than 254 octets.
 *
 * @since 0.1.0
 * @category mo
 */
export const moFields = (event: MoEvent): DeliverSmFields => ({
  serviceType: event.serviceType,
  sourceAddrTon: event.sourceAddrTon,
  sourceAddrNpi: event.sourceAddrNpi,
  sourceAddr: event.sourceAddr,
  destAddrTon: event.destAddrTon,
  destAddrNpi: event.destAddrNpi,
  destinationAddr: event.destinationAddr,
  esmClass: event.esmClass,
  dataCoding: event.dataCoding,
  ...(event.body.length <= SHORT_MESSAGE_MAX
    ? { shortMessage: event.body }
    : { shortMessage: new Uint8Array(0), tlvs: { messagePayload: event.body } })
})

// ---------------------------------------------------------------------------
// service

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How often messages past their validity period are expired. Default 1 second. */
  readonly expiryInterval?: Duration.DurationInput | undefined
  /** Connector events handled at once (their writes are group-committed). Default 8192. */
  readonly concurrency?: number | undefined
  /** How far back the start-up repair looks for receipts never queued. Default 48 hours. */
  readonly repairWindow?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type OutcomesError = MessageStoreError | DeliveryQueueError

const PAGE = 500

/**
 * Builds the pump: repairs receipts never queued, then consumes the connectors' events and
 * sweeps expired messages, in the Scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options) =>
  Effect.gen(function*() {
    const store = yield* MessageStore
    const queue = yield* DeliveryQueue
    const connectors = yield* Connectors
    const sql = yield* SqlClient.SqlClient

    const receipt = (message: Message): Effect.Effect<Option.Option<DeliveryItem>, DeliveryQueueError> =>
      wantsReceipt(message.registeredDelivery, message.state)
        ? Effect.asSome(queue.enqueue({
          account: message.account,
          kind: "receipt",
          messageId: message.id,
          pdu: receiptFields(message)
        }))
        : Effect.succeedNone

    const finish = (id: string, update: StateUpdate): Effect.Effect<Option.Option<Message>, OutcomesError> =>
      Effect.flatMap(store.updateState(id, update), (updated) =>
        Option.match(updated, {
          onNone: () => Effect.succeedNone,
          onSome: (message) => Effect.as(receipt(message), updated)
        }))

    const mo = (event: MoEvent): Effect.Effect<DeliveryItem, DeliveryQueueError> =>
      queue.enqueue({ account: event.account, kind: "mo", pdu: moFields(event) })

    const handle = (event: ConnectorEvent): Effect.Effect<void> =>
      (event._tag === "Outcome"
        ? finish(event.messageId, { state: event.state, errorCode: event.errorCode, at: event.doneAt })
        : mo(event) as Effect.Effect<unknown, OutcomesError>).pipe(
          Effect.catchAll((error) =>
            Effect.logError(`cannot record a ${event._tag === "Outcome" ? "message outcome" : "MO"}`, error)
          ),
          Effect.asVoid
        )

    // A chunk of events in one transaction: the states (one multi-row UPDATE per chunk of
    // rows), then the receipts they call for and the MOs, one commit for all. Should it fail,
    // each event is tried on its own so that one bad event fails only itself.
    const handleAll = (events: ReadonlyArray<ConnectorEvent>): Effect.Effect<void> => {
      const updates: Array<{ readonly id: string; readonly update: StateUpdate; readonly message?: Message | undefined }> = []
      const mos: Array<EnqueueRequest> = []
      for (const event of events) {
        if (event._tag === "Outcome") {
          updates.push({
            id: event.messageId,
            update: { state: event.state, errorCode: event.errorCode, at: event.doneAt },
            message: event.message
          })
        } else {
          mos.push({ account: event.account, kind: "mo", pdu: moFields(event) })
        }
      }
      const write = Effect.gen(function*() {
        const updated = yield* store.writeStates(updates, { queueReceipts: true })
        const requests: Array<EnqueueRequest> = []
        for (const message of updated) {
          if (Option.isSome(message) && wantsReceipt(message.value.registeredDelivery, message.value.state)) {
            const m = message.value
            requests.push({ account: m.account, kind: "receipt", messageId: m.id, pdu: receiptFields(m) })
          }
        }
        for (const request of mos) requests.push(request)
        return yield* queue.writeAll(requests, { receiptsQueued: true })
      })
      return Effect.matchEffect(sql.withTransaction(write), {
        onFailure: (error) =>
          Effect.zipRight(
            Effect.logWarning("a batch of outcomes failed; recording them one by one", error),
            Effect.forEach(events, handle, { discard: true })
          ),
        onSuccess: queue.announce
      })
    }

    const expireDue: Effect.Effect<number, OutcomesError> = Effect.gen(function*() {
      let total = 0
      while (true) {
        const expired = yield* store.findExpired({ limit: PAGE })
        yield* Effect.forEach(
          expired,
          (message) => finish(message.id, { state: MessageState.EXPIRED, errorCode: 0, at: message.validityPeriod! }),
          { concurrency: "unbounded", discard: true }
        )
        total += expired.length
        if (expired.length < PAGE) return total
      }
    })

    // final messages that asked for a receipt and never had one queued (a crash between
    // the state's commit and the receipt's)
    const repair: Effect.Effect<number, OutcomesError | SqlError> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const since = now - Duration.toMillis(options?.repairWindow ?? Duration.hours(48))
      let after = ""
      let total = 0
      while (true) {
        // the conditions of the partial index messages_receipt_missing, as literals
        const rows = yield* sql<{ id: string }>`SELECT id FROM messages
          WHERE receipt IS NULL AND state <> 1 AND state <> 4
          AND (registered_delivery % 4 = 1 OR (registered_delivery % 4 = 2 AND state <> 2))
          AND done_at >= ${since} AND id > ${after}
          ORDER BY id LIMIT ${PAGE}`
        for (const row of rows) {
          const message = yield* store.findById(row.id)
          if (Option.isSome(message) && Option.isSome(yield* receipt(message.value))) total++
        }
        if (rows.length < PAGE) return total
        after = rows[rows.length - 1].id
      }
    })

    const repaired = yield* repair
    if (repaired > 0) yield* Effect.logInfo(`queued ${repaired} receipts lost in the last shutdown`)

    // Events are taken a chunk at a time (all that waited) and a chunk's writes are submitted
    // together, so that they share the store's transactions; a few chunks are in flight at
    // once, up to `concurrency` events.
    const limit = Math.max(1, options?.concurrency ?? 8192)
    const permits = yield* Effect.makeSemaphore(limit)
    const chunks = yield* FiberSet.make<void, never>()
    const handleChunk = (chunk: Chunk.Chunk<ConnectorEvent>): Effect.Effect<void> => {
      const events = Chunk.toReadonlyArray(chunk)
      if (events.length > limit) {
        return Effect.forEach(
          Array.from({ length: Math.ceil(events.length / limit) }, (_, i) => events.slice(i * limit, (i + 1) * limit)),
          (part) => handleChunk(Chunk.unsafeFromArray(part)),
          { discard: true }
        )
      }
      return Effect.zipRight(
        permits.take(events.length),
        FiberSet.run(
          chunks,
          handleAll(events).pipe(Effect.ensuring(permits.release(events.length)))
        )
      )
    }
    yield* Effect.forkScoped(
      Stream.flatMap(connectors.registered, (registration) => registration.connector.events, {
        concurrency: "unbounded"
      }).pipe(Stream.runForEachChunk(handleChunk), Effect.withTracerEnabled(false))
    )
    yield* Effect.forkScoped(
      expireDue.pipe(
        Effect.catchAll((error) => Effect.logError("validity sweep failed", error)),
        Effect.repeat(Schedule.spaced(options?.expiryInterval ?? Duration.seconds(1)))
      )
    )

    return {
      /**
       * Sets a message's final state (if still ENROUTE) and queues its receipt when asked;
       * the updated message, or none when it was final already.
       */
      finish,
      /** Queues an MO for its account. */
      mo,
      /** Expires the messages past their validity period now (the sweeper does this every second). */
      expireDue
    }
  }).pipe(Effect.annotateLogs({ module: "Outcomes" }))

/**
 * @since 0.1.0
 * @category models
 */
export type Service = Effect.Effect.Success<ReturnType<typeof make>>

/**
 * The pump as a service; `Default` takes the repair window from the delivery TTL of
 * `GatewayConfig`, and needs the store, the queue, the connectors and the `SqlClient`.
 *
 * @since 0.1.0
 * @category services
 */
export class Outcomes extends Effect.Service<Outcomes>()("@effect-smpp/gateway/Outcomes", {
  scoped: Effect.flatMap(GatewayConfig, (config) => make({ repairWindow: config.delivery.ttl }))
}) {}

/**
 * The pump with explicit options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<
  Outcomes,
  OutcomesError | SqlError,
  MessageStore | DeliveryQueue | Connectors | SqlClient.SqlClient
> => Layer.scoped(Outcomes, Effect.map(make(options), Outcomes.make))
