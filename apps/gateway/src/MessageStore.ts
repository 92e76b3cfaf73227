/**
 * Every message the gateway accepted, written against `SqlClient` (SQLite by default,
 * PostgreSQL by configuration).
 *
 * Writes are group-committed: `insert`, `updateState` and `markSubmitted` queue their write
 * and resolve once the transaction holding it committed; one writer fiber commits whatever
 * queued up while the previous transaction ran (at most `batchSize` writes). The submit_sm
 * handler answers `submit_sm_resp` with the id `insert` returns, so nothing is acknowledged
 * that is not on disk; `unsafeInsert` is the same write with a callback instead of a waiting
 * fiber (the SMPP fast path). `writeStates` does what `updateStates` does inside the caller's own
 * transaction (`Outcomes` commits states and receipts together).
 *
 * Cost model: `@effect/sql` costs about as much per statement as SQLite does per row, so a
 * batch is a few multi-row statements: inserts as multi-row INSERTs, every state update of a
 * batch as one `UPDATE … FROM (VALUES …) RETURNING …` per chunk of at most 64 rows (SQLite ≥
 * 3.33, PostgreSQL; above ~200 rows SQLite's planner scans the whole table instead of looking
 * each row up by id), chunks cut to a few fixed sizes so that each statement text is prepared
 * once (`internal/sqlRows`). RETURNING whole rows costs about as much as the update itself
 * (measured: ≈ 19 against 8 µs per row), so `writeStates` reads back only the ids of the
 * messages its caller has at hand (the simulator's outcomes carry them) and sets `receipt`
 * 'queued' in the same UPDATE when the caller queues the receipts in its transaction. What
 * remains per message is SQLite's own work (≈ 5–10 µs per row written) and one commit (an
 * fsync) per batch.
 *
 * Message ids are 16 lowercase hex digits of a 64-bit counter. The counter lives in the
 * database (`gateway_sequences`): a block of ids is reserved in the same transaction as the
 * first insert that needs it, so an id is never given twice, across restarts and across
 * gateways sharing one PostgreSQL store (each reserves its own blocks).
 *
 * @since 0.1.0
 */
import type { MigrationError } from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import type * as Pdu from "@effect-smpp/schema/Pdu"
import * as SmppTime from "@effect-smpp/schema/SmppTime"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Layer from "effect/Layer"
import { GatewayConfig } from "./GatewayConfig.js"
import * as Batcher from "./internal/batcher.js"
import { bufferOf, bytesOf } from "./internal/bytes.js"
import * as SqlRows from "./internal/sqlRows.js"
import { Migrations } from "./Migrations.js"

// ---------------------------------------------------------------------------
// models

/**
 * A message to store. Times are epoch milliseconds, already resolved from the SMPP time
 * strings (`fromSubmitSm` does that); `null` or absent means not set.
 *
 * @since 0.1.0
 * @category models
 */
export interface NewMessage {
  /** The system_id of the account that submitted it. */
  readonly account: string
  readonly serviceType?: string | undefined
  readonly sourceAddrTon: number
  readonly sourceAddrNpi: number
  readonly sourceAddr: string
  readonly destAddrTon: number
  readonly destAddrNpi: number
  readonly destinationAddr: string
  readonly esmClass: number
  readonly protocolId?: number | undefined
  readonly priorityFlag?: number | undefined
  readonly dataCoding: number
  /** short_message, or message_payload when that carried the text. */
  readonly body: Uint8Array
  readonly registeredDelivery: number
  readonly scheduleDeliveryTime?: number | null | undefined
  readonly validityPeriod?: number | null | undefined
  /** The connector it was routed to; left out for a scheduled message, which `claim` routes later. */
  readonly connector?: string | null | undefined
}

/**
 * What became of a message's delivery receipt: waiting in the delivery queue, acknowledged
 * by the customer, or given up (TTL passed / retries exhausted or refused for good).
 *
 * @since 0.1.0
 * @category models
 */
export type ReceiptStatus = "queued" | "delivered" | "expired" | "dropped"

/**
 * A stored message.
 *
 * @since 0.1.0
 * @category models
 */
export interface Message {
  readonly id: string
  readonly account: string
  readonly serviceType: string
  readonly sourceAddrTon: number
  readonly sourceAddrNpi: number
  readonly sourceAddr: string
  readonly destAddrTon: number
  readonly destAddrNpi: number
  readonly destinationAddr: string
  readonly esmClass: number
  readonly protocolId: number
  readonly priorityFlag: number
  readonly dataCoding: number
  readonly body: Uint8Array
  readonly registeredDelivery: number
  readonly scheduleDeliveryTime: number | null
  readonly validityPeriod: number | null
  /** message_state (`MessageState`): ENROUTE until its outcome is known. */
  readonly state: number
  readonly errorCode: number
  readonly connector: string | null
  readonly upstreamId: string | null
  readonly receipt: ReceiptStatus | null
  readonly createdAt: number
  readonly updatedAt: number
  readonly doneAt: number | null
}

/**
 * @since 0.1.0
 * @category errors
 */
export class MessageStoreError extends Data.TaggedError("MessageStoreError")<{
  readonly reason: "Sql" | "Closed"
  readonly cause?: unknown
  readonly message: string
}> {}

/**
 * A submit_sm that cannot be stored as it is, with the command_status to answer.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidSubmit extends Data.TaggedError("InvalidSubmit")<{
  readonly status: number
  readonly message: string
}> {}

const sqlError = (cause: SqlError) => new MessageStoreError({ reason: "Sql", cause, message: cause.message })

// ---------------------------------------------------------------------------
// pure helpers

/**
 * The id of counter value `n`: 16 lowercase hex digits.
 *
 * @since 0.1.0
 * @category ids
 */
export const formatId = (n: number): string => n.toString(16).padStart(16, "0")

/**
 * Whether a state is final (anything but ENROUTE).
 *
 * @since 0.1.0
 * @category utils
 */
export const isFinal = (state: number): boolean => state !== MessageState.ENROUTE

const resolveTime = (value: string, now: number, status: number, field: string) => {
  if (value === "") return Either.right(null)
  return Either.match(SmppTime.parse(value), {
    onLeft: (error) => Either.left(new InvalidSubmit({ status, message: `${field}: ${error.message}` })),
    onRight: (time) => Either.right(SmppTime.resolve(time, now))
  })
}

/**
 * The message a submit_sm asks to store: times resolved against `now` (a bad time is
 * ESME_RINVSCHED / ESME_RINVEXPIRY), the body from message_payload when present.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSubmitSm = (
  account: string,
  pdu: Pdu.SubmitSm,
  now: number,
  connector?: string | null
): Either.Either<NewMessage, InvalidSubmit> => {
  // plain code, no generator: it runs for every message
  const schedule = resolveTime(pdu.scheduleDeliveryTime, now, CommandStatus.ESME_RINVSCHED, "schedule_delivery_time")
  if (Either.isLeft(schedule)) return Either.left(schedule.left)
  const validity = resolveTime(pdu.validityPeriod, now, CommandStatus.ESME_RINVEXPIRY, "validity_period")
  if (Either.isLeft(validity)) return Either.left(validity.left)
  const scheduleDeliveryTime = schedule.right
  const validityPeriod = validity.right
  // The fields of `messageHeaderOf` written out rather than spread from it: one object less
  // per submit_sm, on the gateway's hottest path.
  return Either.right({
    account,
    serviceType: pdu.serviceType,
    sourceAddrTon: pdu.sourceAddrTon,
    sourceAddrNpi: pdu.sourceAddrNpi,
    sourceAddr: pdu.sourceAddr,
    destAddrTon: pdu.destAddrTon,
    destAddrNpi: pdu.destAddrNpi,
    destinationAddr: pdu.destinationAddr,
    esmClass: pdu.esmClass,
    protocolId: pdu.protocolId,
    priorityFlag: pdu.priorityFlag,
    dataCoding: pdu.dataCoding,
    body: pdu.tlvs.messagePayload ?? pdu.shortMessage,
    registeredDelivery: pdu.registeredDelivery,
    scheduleDeliveryTime,
    validityPeriod,
    connector: connector ?? null
  })
}

// ---------------------------------------------------------------------------
// rows

interface Row {
  readonly id: string
  readonly account: string
  readonly service_type: string
  readonly source_addr_ton: number
  readonly source_addr_npi: number
  readonly source_addr: string
  readonly dest_addr_ton: number
  readonly dest_addr_npi: number
  readonly destination_addr: string
  readonly esm_class: number
  readonly protocol_id: number
  readonly priority_flag: number
  readonly data_coding: number
  readonly body: Uint8Array
  readonly registered_delivery: number
  readonly schedule_delivery_time: number | string | null
  readonly validity_period: number | string | null
  readonly state: number
  readonly error_code: number
  readonly connector: string | null
  readonly upstream_id: string | null
  readonly receipt: string | null
  readonly created_at: number | string
  readonly updated_at: number | string
  readonly done_at: number | string | null
}

// PostgreSQL hands BIGINT columns out as strings
const nullableNumber = (value: number | string | null): number | null => value === null ? null : Number(value)

const toMessage = (row: Row): Message => ({
  id: row.id,
  account: row.account,
  serviceType: row.service_type,
  sourceAddrTon: row.source_addr_ton,
  sourceAddrNpi: row.source_addr_npi,
  sourceAddr: row.source_addr,
  destAddrTon: row.dest_addr_ton,
  destAddrNpi: row.dest_addr_npi,
  destinationAddr: row.destination_addr,
  esmClass: row.esm_class,
  protocolId: row.protocol_id,
  priorityFlag: row.priority_flag,
  dataCoding: row.data_coding,
  body: bytesOf(row.body),
  registeredDelivery: row.registered_delivery,
  scheduleDeliveryTime: nullableNumber(row.schedule_delivery_time),
  validityPeriod: nullableNumber(row.validity_period),
  state: row.state,
  errorCode: row.error_code,
  connector: row.connector,
  upstreamId: row.upstream_id,
  receipt: row.receipt as ReceiptStatus | null,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  doneAt: nullableNumber(row.done_at)
})

const toMessageFromNew = (id: string, m: NewMessage, now: number): Message => ({
  id,
  account: m.account,
  serviceType: m.serviceType ?? "",
  sourceAddrTon: m.sourceAddrTon,
  sourceAddrNpi: m.sourceAddrNpi,
  sourceAddr: m.sourceAddr,
  destAddrTon: m.destAddrTon,
  destAddrNpi: m.destAddrNpi,
  destinationAddr: m.destinationAddr,
  esmClass: m.esmClass,
  protocolId: m.protocolId ?? 0,
  priorityFlag: m.priorityFlag ?? 0,
  dataCoding: m.dataCoding,
  body: m.body,
  registeredDelivery: m.registeredDelivery,
  scheduleDeliveryTime: m.scheduleDeliveryTime ?? null,
  validityPeriod: m.validityPeriod ?? null,
  state: MessageState.ENROUTE,
  errorCode: 0,
  connector: m.connector ?? null,
  upstreamId: null,
  receipt: null,
  createdAt: now,
  updatedAt: now,
  doneAt: null
})

// the columns of an INSERT, and a message's values in their order
const INSERT_MESSAGES = "INSERT INTO messages (id, account, service_type, source_addr_ton, source_addr_npi, " +
  "source_addr, dest_addr_ton, dest_addr_npi, destination_addr, esm_class, protocol_id, priority_flag, data_coding, " +
  "body, registered_delivery, schedule_delivery_time, validity_period, state, error_code, connector, upstream_id, " +
  "receipt, created_at, updated_at, done_at) VALUES "
const valuesOf = (m: Message): ReadonlyArray<unknown> => [
  m.id,
  m.account,
  m.serviceType,
  m.sourceAddrTon,
  m.sourceAddrNpi,
  m.sourceAddr,
  m.destAddrTon,
  m.destAddrNpi,
  m.destinationAddr,
  m.esmClass,
  m.protocolId,
  m.priorityFlag,
  m.dataCoding,
  bufferOf(m.body),
  m.registeredDelivery,
  m.scheduleDeliveryTime,
  m.validityPeriod,
  m.state,
  m.errorCode,
  m.connector,
  m.upstreamId,
  m.receipt,
  m.createdAt,
  m.updatedAt,
  m.doneAt
]

// a state update as a row of the VALUES list `writeStates` joins the messages with
const STATE_ROW = ["(CAST(", " AS TEXT), CAST(", " AS INTEGER), CAST(", " AS INTEGER), CAST(", " AS BIGINT), CAST(", " AS BIGINT))"]

const UPDATE_STATES = "UPDATE messages SET state = v.column2, error_code = v.column3, updated_at = v.column4, " +
  "done_at = v.column5 FROM (VALUES "
// the same, and `receipt` 'queued' where `Outcomes.wantsReceipt` holds (the caller queues those
// receipts in the same transaction): no second UPDATE, and such a row never enters the partial
// index messages_receipt_missing
const UPDATE_STATES_QUEUED = "UPDATE messages SET state = v.column2, error_code = v.column3, updated_at = v.column4, " +
  "done_at = v.column5, receipt = CASE WHEN v.column2 <> 1 AND v.column2 <> 4 AND (registered_delivery % 4 = 1 " +
  "OR (registered_delivery % 4 = 2 AND v.column2 <> 2)) THEN 'queued' ELSE receipt END FROM (VALUES "

// rows per UPDATE … FROM (VALUES …): from somewhere above 200 rows SQLite's planner (no
// ANALYZE statistics) scans the whole messages table and probes the VALUES through an automatic
// index, instead of looking each row up by id: a statement then costs as much as the table is
// large (measured at 20,000 rows: 12–15 against 5–7 µs per row updated)
const STATE_CHUNK = 64

const UPDATE_STATES_TAIL = ") AS v WHERE messages.id = v.column1 AND messages.state = 1 RETURNING "
// the CASE of UPDATE_STATES_QUEUED
const receiptQueued = (registeredDelivery: number, state: number): boolean =>
  state !== 1 && state !== 4 && ((registeredDelivery % 4) === 1 || ((registeredDelivery % 4) === 2 && state !== 2))

/**
 * A state update of `writeStates`; `message`, when the caller has it (as stored, still
 * ENROUTE), spares reading the row back.
 *
 * @since 0.1.0
 * @category models
 */
export interface StateWrite {
  readonly id: string
  readonly update: StateUpdate
  readonly message?: Message | undefined
}

// ---------------------------------------------------------------------------
// service

/**
 * A change of state. `at` (default: now) is the done time when the state is final.
 *
 * @since 0.1.0
 * @category models
 */
export interface StateUpdate {
  readonly state: number
  readonly errorCode?: number | undefined
  readonly at?: number | undefined
}

/**
 * The fields replace_sm may change: absent keeps the value, `null` clears a time.
 *
 * @since 0.1.0
 * @category models
 */
export interface Replacement {
  readonly body?: Uint8Array | undefined
  readonly dataCoding?: number | undefined
  readonly registeredDelivery?: number | undefined
  readonly scheduleDeliveryTime?: number | null | undefined
  readonly validityPeriod?: number | null | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Writes per transaction at most. Default 1000. */
  readonly batchSize?: number | undefined
  /** Wait for more writes after the first of a batch. Default none. */
  readonly batchWindow?: Duration.DurationInput | undefined
  /** Ids reserved at a time. Default 1000. */
  readonly idBlockSize?: number | undefined
}

type Write =
  | { readonly _tag: "Insert"; readonly message: NewMessage; readonly now: number }
  | { readonly _tag: "UpdateState"; readonly id: string; readonly update: StateUpdate; readonly now: number }
  | {
    readonly _tag: "UpdateStates"
    readonly updates: ReadonlyArray<{ readonly id: string; readonly update: StateUpdate }>
    readonly now: number
  }
  | {
    readonly _tag: "MarkSubmitted"
    readonly id: string
    readonly connector: string
    readonly upstreamId: string
    readonly now: number
  }

type Written = Message | Option.Option<Message> | ReadonlyArray<Option.Option<Message>> | boolean

/**
 * Builds the store over the `SqlClient` in context (whose tables `Migrations` made).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const blockSize = options?.idBlockSize ?? 1000

    // the statements run for every batch, their text made once per row count
    const insertMessages = SqlRows.prepared(sql, INSERT_MESSAGES, SqlRows.tuple(25), "")
    const statesOf = (head: string) => ({
      whole: SqlRows.prepared<Row>(sql, head, STATE_ROW, UPDATE_STATES_TAIL + "*"),
      ids: SqlRows.prepared<{ id: string }>(sql, head, STATE_ROW, UPDATE_STATES_TAIL + "messages.id")
    })
    const updateStates = statesOf(UPDATE_STATES)
    const updateStatesQueued = statesOf(UPDATE_STATES_QUEUED)

    // ids [nextId, endId) are reserved and unused
    let nextId = 0
    let endId = 0

    const reserve = (count: number) =>
      Effect.gen(function*() {
        if (endId - nextId >= count) return
        const size = Math.max(blockSize, count)
        const rows = yield* sql<{ next_value: number | string }>`UPDATE gateway_sequences
          SET next_value = next_value + ${size} WHERE name = 'message_id' RETURNING next_value`
        if (rows.length === 0) return yield* Effect.dieMessage("gateway_sequences has no message_id row")
        endId = Number(rows[0].next_value)
        nextId = endId - size
      })

    // Sets the states in the caller's transaction, with one UPDATE … FROM (VALUES …) per
    // chunk of rows (SQLite ≥ 3.33 and PostgreSQL). A message named twice is updated by its
    // first update only: the second finds it final, as it would one after the other.
    const writeStates = (
      updates: ReadonlyArray<StateWrite>,
      now: number,
      queueReceipts = false
    ): Effect.Effect<Array<Option.Option<Message>>, SqlError> =>
      Effect.gen(function*() {
        const results = new Array<Option.Option<Message>>(updates.length).fill(Option.none())
        const firstOf = new Map<string, number>()
        // rows whose message the caller has (read back as ids only), and the others
        const known: Array<ReadonlyArray<unknown>> = []
        const unknown: Array<ReadonlyArray<unknown>> = []
        for (let i = 0; i < updates.length; i++) {
          const { id, message, update } = updates[i]
          if (firstOf.has(id)) continue
          firstOf.set(id, i)
          const at = update.at ?? now
          const row = [id, update.state, update.errorCode ?? 0, at, isFinal(update.state) ? at : null]
          if (message !== undefined && message.id === id) known.push(row)
          else unknown.push(row)
        }
        const statements = queueReceipts ? updateStatesQueued : updateStates
        for (const chunk of SqlRows.chunks(unknown, STATE_CHUNK)) {
          const rows = yield* statements.whole(chunk)
          for (const row of rows) results[firstOf.get(row.id)!] = Option.some(toMessage(row))
        }
        for (const chunk of SqlRows.chunks(known, STATE_CHUNK)) {
          // RETURNING a whole row costs about as much as the update itself: only the ids
          const rows = yield* statements.ids(chunk)
          for (const row of rows) {
            const i = firstOf.get(row.id)!
            const { message, update } = updates[i]
            const at = update.at ?? now
            const state = update.state
            results[i] = Option.some({
              ...message!,
              state,
              errorCode: update.errorCode ?? 0,
              updatedAt: at,
              doneAt: isFinal(state) ? at : null,
              receipt: queueReceipts && receiptQueued(message!.registeredDelivery, state) ? "queued" : message!.receipt
            })
          }
        }
        return results
      })

    const runBatch = (writes: ReadonlyArray<Write>) =>
      sql.withTransaction(Effect.gen(function*() {
        const results = new Array<Written>(writes.length)
        // inserts first, in one multi-row statement per chunk; no update in this batch can
        // be about them, since their ids are known only after the batch commits
        let inserts = 0
        for (const write of writes) if (write._tag === "Insert") inserts++
        if (inserts > 0) {
          yield* reserve(inserts)
          const rows: Array<ReadonlyArray<unknown>> = []
          for (let i = 0; i < writes.length; i++) {
            const write = writes[i]
            if (write._tag !== "Insert") continue
            const message = toMessageFromNew(formatId(nextId++), write.message, write.now)
            results[i] = message
            rows.push(valuesOf(message))
          }
          // 25 columns: 64 rows stay far below SQLite's 32766 bound parameters per statement
          for (const chunk of SqlRows.chunks(rows, 64)) yield* insertMessages(chunk)
        }
        // every state update of the batch in one go, in the order of the writes
        const updates: Array<{ readonly id: string; readonly update: StateUpdate }> = []
        let now = 0
        for (const write of writes) {
          if (write._tag === "UpdateState") updates.push(write)
          else if (write._tag === "UpdateStates") for (const update of write.updates) updates.push(update)
          else continue
          now = Math.max(now, write.now)
        }
        if (updates.length > 0) {
          const updated = yield* writeStates(updates, now)
          let k = 0
          for (let i = 0; i < writes.length; i++) {
            const write = writes[i]
            if (write._tag === "UpdateState") results[i] = updated[k++]
            else if (write._tag === "UpdateStates") {
              results[i] = updated.slice(k, k + write.updates.length)
              k += write.updates.length
            }
          }
        }
        for (let i = 0; i < writes.length; i++) {
          const write = writes[i]
          if (write._tag === "MarkSubmitted") {
            const rows = yield* sql<{ id: string }>`UPDATE messages SET connector = ${write.connector},
              upstream_id = ${write.upstreamId}, updated_at = ${write.now} WHERE id = ${write.id} RETURNING id`
            results[i] = rows.length > 0
          }
        }
        return results
      })).pipe(Effect.mapError(sqlError))

    const batcher = yield* Batcher.make<Write, Written, MessageStoreError>({
      maxBatch: options?.batchSize ?? 1000,
      window: options?.batchWindow,
      run: runBatch,
      // the failed transaction may have reserved the block it was using: forget it
      onFailure: Effect.sync(() => {
        endId = nextId
      }),
      closed: () => new MessageStoreError({ reason: "Closed", message: "the message store is closed" })
    })

    const orFail = <A>(effect: Effect.Effect<A, SqlError>) => Effect.mapError(effect, sqlError)
    const first = (rows: ReadonlyArray<Row>) => rows.length === 0 ? Option.none() : Option.some(toMessage(rows[0]))

    return {
      /** Write batches committed so far, and the writes in them (for metrics). */
      stats: (): { readonly batches: number; readonly writes: number } => {
        const stats = batcher.stats()
        return { batches: stats.batches, writes: stats.items }
      },
      /**
       * Stores a new message (state ENROUTE); resolves with it, id included, once committed.
       */
      insert: (message: NewMessage): Effect.Effect<Message, MessageStoreError> =>
        Effect.flatMap(
          Clock.currentTimeMillis,
          (now) => batcher.submit({ _tag: "Insert", message, now }) as Effect.Effect<Message, MessageStoreError>
        ),

      /**
       * `insert` from plain code: `onDone` gets the stored message (or the failure) once
       * committed; no fiber waits. False when the store is closed (`onDone` is not called).
       */
      unsafeInsert: (
        message: NewMessage,
        now: number,
        onDone: (exit: Exit.Exit<Message, MessageStoreError>) => void
      ): boolean =>
        batcher.unsafeOffer(
          { _tag: "Insert", message, now },
          onDone as (exit: Exit.Exit<Written, MessageStoreError>) => void
        ),

      findById: (id: string): Effect.Effect<Option.Option<Message>, MessageStoreError> =>
        orFail(Effect.map(sql<Row>`SELECT * FROM messages WHERE id = ${id}`, first)),

      findByUpstreamId: (
        connector: string,
        upstreamId: string
      ): Effect.Effect<Option.Option<Message>, MessageStoreError> =>
        orFail(Effect.map(
          sql<Row>`SELECT * FROM messages WHERE connector = ${connector} AND upstream_id = ${upstreamId}`,
          first
        )),

      /**
       * Sets the state of a message still ENROUTE (and its done time when final); the updated
       * message, or none when it is unknown or already final (a late or second outcome).
       */
      updateState: (id: string, update: StateUpdate): Effect.Effect<Option.Option<Message>, MessageStoreError> =>
        Effect.flatMap(
          Clock.currentTimeMillis,
          (now) =>
            batcher.submit({ _tag: "UpdateState", id, update, now }) as Effect.Effect<
              Option.Option<Message>,
              MessageStoreError
            >
        ),

      /**
       * `updateState` for many messages at once (one write of the batch, one caller to
       * answer): the results in the order of `updates`.
       */
      updateStates: (
        updates: ReadonlyArray<{ readonly id: string; readonly update: StateUpdate }>
      ): Effect.Effect<ReadonlyArray<Option.Option<Message>>, MessageStoreError> =>
        updates.length === 0 ? Effect.succeed([]) : Effect.flatMap(
          Clock.currentTimeMillis,
          (now) =>
            batcher.submit({ _tag: "UpdateStates", updates, now }) as Effect.Effect<
              ReadonlyArray<Option.Option<Message>>,
              MessageStoreError
            >
        ),

      /**
       * `updateStates` in the caller's transaction, not batched (the caller commits): for one
       * that writes other rows in the same transaction (`Outcomes` queues the receipts).
       * `queueReceipts`: the caller queues, in this transaction, the receipt of every message
       * that wants one (`Outcomes.wantsReceipt`), so their `receipt` is set 'queued' here.
       */
      writeStates: (
        updates: ReadonlyArray<StateWrite>,
        writeOptions?: { readonly queueReceipts?: boolean | undefined }
      ): Effect.Effect<ReadonlyArray<Option.Option<Message>>, MessageStoreError> =>
        updates.length === 0
          ? Effect.succeed([])
          : Effect.flatMap(
            Clock.currentTimeMillis,
            (now) => orFail(writeStates(updates, now, writeOptions?.queueReceipts === true))
          ),

      /** Records the connector and its id for the message; whether the message exists. */
      markSubmitted: (
        id: string,
        submitted: { readonly connector: string; readonly upstreamId: string }
      ): Effect.Effect<boolean, MessageStoreError> =>
        Effect.flatMap(
          Clock.currentTimeMillis,
          (now) =>
            batcher.submit({ _tag: "MarkSubmitted", id, ...submitted, now }) as Effect.Effect<
              boolean,
              MessageStoreError
            >
        ),

      /**
       * Scheduled messages not yet routed (state ENROUTE, no connector), earliest first:
       * `dueBy` limits to those due by then, `account` to one account.
       */
      findScheduled: (query?: {
        readonly dueBy?: number | undefined
        readonly account?: string | undefined
        readonly limit?: number | undefined
      }): Effect.Effect<ReadonlyArray<Message>, MessageStoreError> =>
        orFail(Effect.map(
          sql<Row>`SELECT * FROM messages
            WHERE state = 1 AND connector IS NULL AND schedule_delivery_time IS NOT NULL
            ${query?.dueBy === undefined ? sql`` : sql`AND schedule_delivery_time <= ${query.dueBy}`}
            ${query?.account === undefined ? sql`` : sql`AND account = ${query.account}`}
            ORDER BY schedule_delivery_time LIMIT ${query?.limit ?? 100}`,
          (rows) => rows.map(toMessage)
        )),

      /**
       * Takes a not-yet-routed message for `connector` (the scheduler does this before it
       * submits): the message, or none when it was cancelled, claimed or is unknown.
       */
      claim: (id: string, connector: string): Effect.Effect<Option.Option<Message>, MessageStoreError> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          orFail(Effect.map(
            sql<Row>`UPDATE messages SET connector = ${connector}, updated_at = ${now}
              WHERE id = ${id} AND state = 1 AND connector IS NULL RETURNING *`,
            first
          ))),

      /**
       * cancel_sm for one message: cancels it (state DELETED) if it belongs to `account`,
       * matches `sourceAddr` when given, and is not yet routed. The cancelled message, or none
       * (then the answer is ESME_RCANCELFAIL).
       */
      cancel: (request: {
        readonly id: string
        readonly account: string
        readonly sourceAddr?: string | undefined
      }): Effect.Effect<Option.Option<Message>, MessageStoreError> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          orFail(Effect.map(
            sql<Row>`UPDATE messages SET state = ${MessageState.DELETED}, updated_at = ${now}, done_at = ${now}
              WHERE id = ${request.id} AND account = ${request.account} AND state = 1 AND connector IS NULL
              ${request.sourceAddr === undefined ? sql`` : sql`AND source_addr = ${request.sourceAddr}`}
              RETURNING *`,
            first
          ))),

      /**
       * cancel_sm without message_id: cancels every not-yet-routed message of `account` from
       * `sourceAddr` to `destinationAddr` (and `serviceType` when given); the cancelled ids.
       */
      cancelMatching: (request: {
        readonly account: string
        readonly sourceAddr: string
        readonly destinationAddr: string
        readonly serviceType?: string | undefined
      }): Effect.Effect<ReadonlyArray<string>, MessageStoreError> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          orFail(Effect.map(
            sql<{ id: string }>`UPDATE messages SET state = ${MessageState.DELETED}, updated_at = ${now},
              done_at = ${now}
              WHERE account = ${request.account} AND source_addr = ${request.sourceAddr}
              AND destination_addr = ${request.destinationAddr} AND state = 1 AND connector IS NULL
              ${request.serviceType === undefined ? sql`` : sql`AND service_type = ${request.serviceType}`}
              RETURNING id`,
            (rows) => rows.map((row) => row.id)
          ))),

      /**
       * replace_sm: changes a not-yet-routed message of `account` (matching `sourceAddr` when
       * given). The replaced message, or none (then ESME_RREPLACEFAIL).
       */
      replace: (request: {
        readonly id: string
        readonly account: string
        readonly sourceAddr?: string | undefined
        readonly replacement: Replacement
      }): Effect.Effect<Option.Option<Message>, MessageStoreError> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const r = request.replacement
          const set: Record<string, unknown> = { updated_at: now }
          if (r.body !== undefined) set.body = bufferOf(r.body)
          if (r.dataCoding !== undefined) set.data_coding = r.dataCoding
          if (r.registeredDelivery !== undefined) set.registered_delivery = r.registeredDelivery
          if (r.scheduleDeliveryTime !== undefined) set.schedule_delivery_time = r.scheduleDeliveryTime
          if (r.validityPeriod !== undefined) set.validity_period = r.validityPeriod
          return orFail(Effect.map(
            sql<Row>`UPDATE messages SET ${sql.update(set)}
              WHERE id = ${request.id} AND account = ${request.account} AND state = 1 AND connector IS NULL
              ${request.sourceAddr === undefined ? sql`` : sql`AND source_addr = ${request.sourceAddr}`}
              RETURNING *`,
            first
          ))
        }),

      /**
       * Messages still ENROUTE whose validity period has passed by `now` (default: the
       * Clock), earliest first. The caller sets them EXPIRED with `updateState`.
       */
      findExpired: (query?: {
        readonly now?: number | undefined
        readonly limit?: number | undefined
      }): Effect.Effect<ReadonlyArray<Message>, MessageStoreError> =>
        Effect.flatMap(Clock.currentTimeMillis, (clockNow) =>
          orFail(Effect.map(
            sql<Row>`SELECT * FROM messages
              WHERE state = 1 AND validity_period IS NOT NULL AND validity_period <= ${query?.now ?? clockNow}
              ORDER BY validity_period LIMIT ${query?.limit ?? 100}`,
            (rows) => rows.map(toMessage)
          )))
    }
  })

/**
 * @since 0.1.0
 * @category models
 */
export type Service = Effect.Effect.Success<ReturnType<typeof make>>

/**
 * The store as a service: `Default` takes its settings from `GatewayConfig` and runs the
 * migrations; it needs a `SqlClient` (`Database.layerFromConfig`, or a PostgreSQL client).
 *
 * @since 0.1.0
 * @category services
 */
export class MessageStore extends Effect.Service<MessageStore>()("@effect-smpp/gateway/MessageStore", {
  scoped: Effect.gen(function*() {
    const config = yield* GatewayConfig
    return yield* make({
      batchSize: config.store.batchSize,
      batchWindow: config.store.batchWindow,
      idBlockSize: config.store.idBlockSize
    })
  }),
  dependencies: [Migrations.Default, GatewayConfig.Default]
}) {}

/**
 * The store with explicit options, over the `SqlClient` in context (migrations included).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<MessageStore, SqlError | MigrationError, SqlClient.SqlClient> =>
  Layer.scoped(MessageStore, Effect.map(make(options), MessageStore.make)).pipe(Layer.provide(Migrations.Default))
