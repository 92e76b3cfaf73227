/**
 * Delivery receipts and MO messages on their way to a customer, persisted in the message
 * store's database so that they survive a restart, and kept until the customer's
 * `deliver_sm_resp` acknowledges them.
 *
 * The one who delivers (the SMPP server wiring) drives it:
 * 1. `take(account)` leases the items due for the account: they stay invisible to other
 *    takers for `lease` (and their attempt is counted), so two receiver sessions of one
 *    account never get the same item;
 * 2. on `deliver_sm_resp` ESME_ROK: `ack(id)` (acks are batched: one DELETE per batch);
 * 3. on an error status or no response: `retry(id, outcome)` schedules the next attempt by
 *    the retry `Schedule` (exponential, capped, jittered by default; the schedule decides
 *    from the attempt count and the outcome, so a permanent refusal such as ESME_RX_P_APPN
 *    drops the item); `release(ids)` gives leased items back untried (the session closed).
 *
 * An item not delivered within its TTL is dropped by a sweeper on the Clock, with a log
 * line; for a receipt, the message's `receipt` becomes `expired` (or `dropped` when the
 * schedule gives up). The deliver_sm is stored encoded (the codec's own bytes), TLVs and all.
 *
 * Writes (`enqueue`, `enqueueAll`, `ack`) are group-committed like the message store's, with
 * multi-row statements of a few fixed sizes (the service's `Default` waits 10 ms for more
 * writes after the first: acks come one response at a time, and each commit is an fsync;
 * `ackLater` queues an ack without its caller waiting); `writeAll` inserts in the caller's
 * transaction instead (then `announce` wakes the deliverers), so that `Outcomes` commits a
 * chunk's states and receipts at once. A `take` is one UPDATE … RETURNING of up to `limit`
 * rows, committed on its own; a deliverer that holds a `claim` on an account gets the items
 * `writeAll` writes for it inserted already leased, and handed over by `announce`, without one.
 *
 * Gateways sharing one PostgreSQL store tell each other: items left for any taker are
 * announced with NOTIFY on `NOTIFY_CHANNEL` (the account as payload), and what the others
 * announce wakes this gateway's deliverers (`subscribe`), as its own items do.
 *
 * @since 0.1.0
 */
import type { MigrationError } from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Resend from "@effect-smpp/runtime/Resend"
import * as Codec from "@effect-smpp/schema/Codec"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Runtime from "effect/Runtime"
import type * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { GatewayConfig } from "./GatewayConfig.js"
import { StoreNotifications } from "./Database.js"
import * as Batcher from "./internal/batcher.js"
import { bufferOf, bytesOf } from "./internal/bytes.js"
import * as SqlRows from "./internal/sqlRows.js"
import { Migrations } from "./Migrations.js"

/**
 * @since 0.1.0
 * @category models
 */
export type DeliveryKind = "receipt" | "mo"

/**
 * The fields of a deliver_sm, as `Pdu.DeliverSm.make` takes them (left out: 0, "" or none).
 *
 * @since 0.1.0
 * @category models
 */
export type DeliverSmFields = Exclude<Parameters<typeof Pdu.DeliverSm.make>[0], void>

/**
 * @since 0.1.0
 * @category models
 */
export interface EnqueueRequest {
  /** The system_id whose receiver sessions get it. */
  readonly account: string
  readonly kind: DeliveryKind
  /** For a receipt: our id of the message it reports on. */
  readonly messageId?: string | undefined
  readonly pdu: DeliverSmFields
  /** Default: the queue's `ttl`. */
  readonly ttl?: Duration.DurationInput | undefined
}

/**
 * A queued delivery. `pdu` has sequence number 0: the session numbers it when sending.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeliveryItem {
  readonly id: number
  readonly account: string
  readonly kind: DeliveryKind
  readonly messageId: string | null
  readonly pdu: Pdu.DeliverSm
  /** Attempts made (taking an item counts one). */
  readonly attempts: number
  readonly createdAt: number
  readonly nextAttemptAt: number
  readonly expiresAt: number
}

/**
 * What `retry` did: scheduled the next attempt at `at`, dropped the item (the schedule gave
 * up), or found no such item (acknowledged or expired meanwhile).
 *
 * @since 0.1.0
 * @category models
 */
export type RetryResult =
  | { readonly _tag: "Rescheduled"; readonly at: number }
  | { readonly _tag: "Dropped" }
  | { readonly _tag: "Unknown" }

/**
 * @since 0.1.0
 * @category errors
 */
export class DeliveryQueueError extends Data.TaggedError("DeliveryQueueError")<{
  readonly reason: "Sql" | "Closed" | "InvalidPdu"
  readonly cause?: unknown
  readonly message: string
}> {}

const sqlError = (cause: SqlError) => new DeliveryQueueError({ reason: "Sql", cause, message: cause.message })

/**
 * The delay before attempt `attempts + 1` by a retry schedule, replayed from its start:
 * attempts before the last are fed `"timeout"`, the last is fed `outcome`. `None` when the
 * schedule is done (give up).
 *
 * @since 0.1.0
 * @category retry
 */
export const retryDelay = <R>(
  schedule: Schedule.Schedule<unknown, Resend.Outcome, R>,
  attempts: number,
  outcome: Resend.Outcome
): Effect.Effect<Option.Option<number>, never, R> =>
  Effect.gen(function*() {
    let state = schedule.initial
    let now = 0
    const steps = Math.max(1, attempts)
    for (let i = 1; i <= steps; i++) {
      const [next, , decision] = yield* schedule.step(now, i === steps ? outcome : "timeout", state)
      if (ScheduleDecision.isDone(decision)) return Option.none()
      state = next
      const start = ScheduleIntervals.start(decision.intervals)
      if (i === steps) return Option.some(Math.max(0, start - now))
      now = start
    }
    return Option.none()
  })

interface Row {
  readonly id: number | string
  readonly account: string
  readonly kind: string
  readonly message_id: string | null
  readonly pdu: Uint8Array
  readonly attempts: number
  readonly leased: number
  readonly next_attempt_at: number | string
  readonly expires_at: number | string
  readonly created_at: number | string
}

const toItem = (row: Row): Either.Either<DeliveryItem, DeliveryQueueError> => {
  const decoded = Codec.decode(bytesOf(row.pdu))
  if (Either.isLeft(decoded) || decoded.right._tag !== "deliver_sm") {
    return Either.left(
      new DeliveryQueueError({
        reason: "InvalidPdu",
        message: `delivery ${row.id}: stored octets are not a deliver_sm`
      })
    )
  }
  return Either.right({
    id: Number(row.id),
    account: row.account,
    kind: row.kind as DeliveryKind,
    messageId: row.message_id,
    pdu: decoded.right,
    attempts: Number(row.attempts),
    createdAt: Number(row.created_at),
    nextAttemptAt: Number(row.next_attempt_at),
    expiresAt: Number(row.expires_at)
  })
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How long an item may wait for its acknowledgement. Default 48 hours. */
  readonly ttl?: Duration.DurationInput | undefined
  /** When to try again. Default `Resend.deliveryPolicy()`: 1 s doubling to 60 s, ±20%. */
  readonly retry?: Schedule.Schedule<unknown, Resend.Outcome> | undefined
  /** How long a taken item stays invisible to other takers. Default 2 minutes. */
  readonly lease?: Duration.DurationInput | undefined
  /** How often expired items are swept. Default 1 minute. */
  readonly sweepInterval?: Duration.DurationInput | undefined
  /** Writes per transaction at most. Default 1000. */
  readonly batchSize?: number | undefined
  /**
   * Wait for more writes after the first of a batch. Default none; the service's `Default`
   * waits `delivery.commitWindow` (10 ms): acks arrive one response at a time, and each
   * commit is an fsync.
   */
  readonly batchWindow?: Duration.DurationInput | undefined
  /**
   * Make leased items due at once on start (they were in flight when the gateway stopped).
   * Right for one gateway per store; turn off when several share one. Default true.
   */
  readonly releaseLeasesOnStart?: boolean | undefined
}

/**
 * A deliverer's hold on an account's new items (`claim`): items written by `writeAll` while
 * it has `room` are inserted leased to it, and handed over by `announce` once committed,
 * so that they need no `take` (no UPDATE, no commit, no decoding of the stored octets).
 *
 * @since 0.1.0
 * @category models
 */
export interface Claim {
  /** How many more items it takes now. */
  readonly room: () => number
  /** Items leased to it, committed; false when it no longer takes any (they are released). */
  readonly offer: (items: ReadonlyArray<DeliveryItem>) => boolean
}

interface EnqueueEntry {
  readonly account: string
  readonly kind: DeliveryKind
  readonly messageId: string | null
  readonly pdu: Uint8Array
  readonly now: number
  readonly expiresAt: number
  /** Inserted leased to the account's claim (its attempt counted). */
  leased?: boolean
}

// the items `writeAll` inserted leased to a claim, for `announce` to hand over
const handedOver = new WeakSet<DeliveryItem>()

type Write =
  | ({ readonly _tag: "Enqueue" } & EnqueueEntry)
  | { readonly _tag: "EnqueueMany"; readonly entries: ReadonlyArray<EnqueueEntry>; readonly now: number }
  | { readonly _tag: "Ack"; readonly id: number; readonly now: number }

type Written = number | Array<number> | undefined

/**
 * The channel of PostgreSQL notifications between gateways sharing a store: the account an
 * item was queued for.
 *
 * @since 0.1.0
 * @category constants
 */
export const NOTIFY_CHANNEL = "gateway_delivery_queue"

/**
 * Builds the queue over the `SqlClient` in context; its sweeper runs in the Scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const ttl = Duration.toMillis(options?.ttl ?? Duration.hours(48))
    const lease = Duration.toMillis(options?.lease ?? Duration.minutes(2))
    const schedule = options?.retry ?? Resend.deliveryPolicy()
    const enqueued = yield* PubSub.sliding<string>(1024)
    // Other gateways on the same PostgreSQL: what they queue wakes our deliverers too (a lost
    // connection is listened to again; the deliverers' periodic check covers the gap).
    const notifications = yield* Effect.serviceOption(StoreNotifications)
    if (Option.isSome(notifications)) {
      yield* Effect.forkScoped(
        notifications.value.listen(NOTIFY_CHANNEL).pipe(
          Stream.runForEach((account) => PubSub.publish(enqueued, account)),
          Effect.catchAllCause((cause) => Effect.logWarning("listening to the other gateways failed", cause)),
          Effect.repeat(Schedule.spaced(Duration.seconds(1)))
        )
      )
    }
    /** Wakes the deliverers of the account here, and on the other gateways. */
    const publish = (account: string): Effect.Effect<void> =>
      Option.isNone(notifications)
        ? Effect.asVoid(PubSub.publish(enqueued, account))
        : Effect.zipRight(
          PubSub.publish(enqueued, account),
          Effect.catchAllCause(
            notifications.value.notify(NOTIFY_CHANNEL, account),
            (cause) => Effect.logWarning("cannot notify the other gateways", cause)
          )
        )
    const query = <A>(effect: Effect.Effect<A, SqlError>) => Effect.mapError(effect, sqlError)
    const claims = new Map<string, Claim>()

    if (options?.releaseLeasesOnStart ?? true) {
      const now = yield* Clock.currentTimeMillis
      yield* query(sql`UPDATE delivery_queue SET leased = 0, next_attempt_at = ${now} WHERE leased = 1`)
    }

    // the INSERT of every enqueue, its text made once per row count
    const insertRows = SqlRows.prepared<{ id: number | string }>(
      sql,
      "INSERT INTO delivery_queue (account, kind, message_id, pdu, attempts, leased, next_attempt_at, expires_at, " +
        "created_at) VALUES ",
      SqlRows.tuple(9),
      " RETURNING id"
    )

    const setReceipt = (status: string, now: number, ids: ReadonlyArray<string>) =>
      ids.length === 0
        ? Effect.void
        : Effect.forEach(
          SqlRows.chunks(ids),
          (chunk) => sql`UPDATE messages SET receipt = ${status}, updated_at = ${now} WHERE ${sql.in("id", chunk)}`,
          { discard: true }
        )

    // Inserts the entries in the caller's transaction and marks their messages' receipts
    // queued; their ids, in order.
    const insert = (entries: ReadonlyArray<EnqueueEntry>, now: number, receiptsQueued = false) =>
      Effect.gen(function*() {
        const ids = new Array<number>(entries.length)
        const receipts: Array<string> = []
        let offset = 0
        // 9 columns: 256 rows stay far below SQLite's 32766 bound parameters per statement
        for (const chunk of SqlRows.chunks(entries)) {
          const rows = chunk.map((entry) => {
            if (!receiptsQueued && entry.messageId !== null && entry.kind === "receipt") receipts.push(entry.messageId)
            const leased = entry.leased === true
            return [
              entry.account,
              entry.kind,
              entry.messageId,
              bufferOf(entry.pdu),
              leased ? 1 : 0,
              leased ? 1 : 0,
              leased ? entry.now + lease : entry.now,
              entry.expiresAt,
              entry.now
            ]
          })
          // one statement per chunk: the keys are handed out in the order of the rows (an
          // autoincrement / a sequence, within one statement), whatever order RETURNING lists them in
          const chunkIds = (yield* insertRows(rows))
            .map((row) => Number(row.id))
            .sort((a, b) => a - b)
          for (let j = 0; j < chunk.length; j++) ids[offset + j] = chunkIds[j]
          offset += chunk.length
        }
        yield* setReceipt("queued", now, receipts)
        return ids
      })

    const runBatch = (writes: ReadonlyArray<Write>) =>
      sql.withTransaction(Effect.gen(function*() {
        const results = new Array<Written>(writes.length)
        const acks: Array<number> = []
        const entries: Array<EnqueueEntry> = []
        let now = 0
        for (let i = 0; i < writes.length; i++) {
          const write = writes[i]
          now = Math.max(now, write.now)
          if (write._tag === "Ack") acks.push(write.id)
          else if (write._tag === "Enqueue") entries.push(write)
          else for (const entry of write.entries) entries.push(entry)
        }
        if (entries.length > 0) {
          const ids = yield* insert(entries, now)
          let k = 0
          for (let i = 0; i < writes.length; i++) {
            const write = writes[i]
            if (write._tag === "Enqueue") results[i] = ids[k++]
            else if (write._tag === "EnqueueMany") {
              results[i] = ids.slice(k, k + write.entries.length)
              k += write.entries.length
            }
          }
        }
        for (const chunk of SqlRows.chunks(acks)) {
          yield* sql`UPDATE messages SET receipt = 'delivered', updated_at = ${now} WHERE id IN (
            SELECT message_id FROM delivery_queue WHERE ${sql.in("id", chunk)} AND kind = 'receipt'
            AND message_id IS NOT NULL)`
          yield* sql`DELETE FROM delivery_queue WHERE ${sql.in("id", chunk)}`
        }
        return results
      })).pipe(Effect.mapError(sqlError))

    const runtime = yield* Effect.runtime<never>()
    const onAckDone = (exit: Exit.Exit<Written, DeliveryQueueError>) => {
      if (Exit.isFailure(exit)) Runtime.runFork(runtime)(Effect.logError("an acknowledgement could not be recorded", exit.cause))
    }
    const batcher = yield* Batcher.make<Write, Written, DeliveryQueueError>({
      maxBatch: options?.batchSize ?? 1000,
      window: options?.batchWindow,
      run: runBatch,
      closed: () => new DeliveryQueueError({ reason: "Closed", message: "the delivery queue is closed" })
    })

    const enqueue = (request: EnqueueRequest): Effect.Effect<DeliveryItem, DeliveryQueueError> =>
      Effect.gen(function*() {
        // the codec checks every field's limits; Schema validation would only repeat it, slower
        const pdu = Pdu.make("deliver_sm", request.pdu)
        const bytes = yield* Either.mapLeft(Codec.encodeEither(pdu), (cause) =>
          new DeliveryQueueError({ reason: "InvalidPdu", cause, message: `not a valid deliver_sm: ${cause.message}` }))
        const now = yield* Clock.currentTimeMillis
        const expiresAt = now + (request.ttl === undefined ? ttl : Duration.toMillis(request.ttl))
        const messageId = request.messageId ?? null
        const id = (yield* batcher.submit({
          _tag: "Enqueue",
          account: request.account,
          kind: request.kind,
          messageId,
          pdu: bytes,
          now,
          expiresAt
        })) as number
        yield* publish(request.account)
        return {
          id,
          account: request.account,
          kind: request.kind,
          messageId,
          pdu,
          attempts: 0,
          createdAt: now,
          nextAttemptAt: now,
          expiresAt
        }
      })

    // the rows of many requests; a deliver_sm that cannot be encoded is logged and left out
    const prepareAll = (requests: ReadonlyArray<EnqueueRequest>, now: number) =>
      Effect.gen(function*() {
        const entries: Array<EnqueueEntry> = []
        const pdus: Array<Pdu.DeliverSm> = []
        for (const request of requests) {
          const pdu = Pdu.make("deliver_sm", request.pdu)
          const bytes = Codec.encodeEither(pdu)
          if (Either.isLeft(bytes)) {
            // one bad deliver_sm must not hold back the others
            yield* Effect.logError(`not a valid deliver_sm for ${request.account}: ${bytes.left.message}`)
            continue
          }
          pdus.push(pdu)
          entries.push({
            account: request.account,
            kind: request.kind,
            messageId: request.messageId ?? null,
            pdu: bytes.right,
            now,
            expiresAt: now + (request.ttl === undefined ? ttl : Duration.toMillis(request.ttl))
          })
        }
        return { entries, pdus }
      })

    const itemsOf = (
      entries: ReadonlyArray<EnqueueEntry>,
      pdus: ReadonlyArray<Pdu.DeliverSm>,
      ids: ReadonlyArray<number>
    ): Array<DeliveryItem> => {
      const items = new Array<DeliveryItem>(entries.length)
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]
        const leased = entry.leased === true
        const item: DeliveryItem = {
          id: ids[i],
          account: entry.account,
          kind: entry.kind,
          messageId: entry.messageId,
          pdu: pdus[i],
          attempts: leased ? 1 : 0,
          createdAt: entry.now,
          nextAttemptAt: leased ? entry.now + lease : entry.now,
          expiresAt: entry.expiresAt
        }
        if (leased) handedOver.add(item)
        items[i] = item
      }
      return items
    }

    const release = (ids: ReadonlyArray<number>): Effect.Effect<void, DeliveryQueueError> =>
      ids.length === 0 ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (now) =>
        query(Effect.forEach(SqlRows.chunks(ids), (chunk) =>
          sql`UPDATE delivery_queue SET leased = 0, attempts = attempts - 1, next_attempt_at = ${now}
            WHERE ${sql.in("id", chunk)} AND leased = 1`, { discard: true })))

    const announce = (items: ReadonlyArray<DeliveryItem>): Effect.Effect<void> =>
      Effect.suspend(() => {
        const accounts = new Set<string>()
        let leased: Map<string, Array<DeliveryItem>> | undefined
        for (const item of items) {
          if (handedOver.has(item)) {
            leased ??= new Map()
            const list = leased.get(item.account)
            if (list === undefined) leased.set(item.account, [item])
            else list.push(item)
          } else {
            accounts.add(item.account)
          }
        }
        const refused: Array<number> = []
        if (leased !== undefined) {
          for (const [account, list] of leased) {
            const claim = claims.get(account)
            if (claim === undefined || !claim.offer(list)) {
              // the claim went away since `writeAll`: due again at once, for whoever takes next
              for (const item of list) refused.push(item.id)
              accounts.add(account)
            }
          }
        }
        const published = Effect.forEach(accounts, publish, { discard: true })
        return refused.length === 0 ? published : release(refused).pipe(
          Effect.catchAll((error) => Effect.logError("cannot give back items a deliverer refused", error)),
          Effect.zipRight(published)
        )
      })

    const enqueueAll = (
      requests: ReadonlyArray<EnqueueRequest>
    ): Effect.Effect<ReadonlyArray<DeliveryItem>, DeliveryQueueError> =>
      Effect.gen(function*() {
        if (requests.length === 0) return []
        const now = yield* Clock.currentTimeMillis
        const { entries, pdus } = yield* prepareAll(requests, now)
        if (entries.length === 0) return []
        const ids = (yield* batcher.submit({ _tag: "EnqueueMany", entries, now })) as Array<number>
        const items = itemsOf(entries, pdus, ids)
        yield* announce(items)
        return items
      })

    const writeAll = (
      requests: ReadonlyArray<EnqueueRequest>,
      writeOptions?: { readonly receiptsQueued?: boolean | undefined }
    ): Effect.Effect<ReadonlyArray<DeliveryItem>, DeliveryQueueError> =>
      Effect.gen(function*() {
        if (requests.length === 0) return []
        const now = yield* Clock.currentTimeMillis
        const { entries, pdus } = yield* prepareAll(requests, now)
        if (entries.length === 0) return []
        if (claims.size > 0) {
          // lease what the accounts' deliverers have room for
          const rooms = new Map<string, number>()
          for (const entry of entries) {
            let room = rooms.get(entry.account)
            if (room === undefined) room = claims.get(entry.account)?.room() ?? 0
            if (room > 0) entry.leased = true
            rooms.set(entry.account, room - 1)
          }
        }
        const ids = yield* query(insert(entries, now, writeOptions?.receiptsQueued === true))
        return itemsOf(entries, pdus, ids)
      })

    const take = (
      account: string,
      takeOptions?: { readonly limit?: number | undefined }
    ): Effect.Effect<ReadonlyArray<DeliveryItem>, DeliveryQueueError> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const limit = takeOptions?.limit ?? 100
        const lock = sql.onDialectOrElse({ pg: () => sql`FOR UPDATE SKIP LOCKED`, orElse: () => sql`` })
        const rows = yield* query(sql<Row>`UPDATE delivery_queue
          SET leased = 1, attempts = attempts + 1, next_attempt_at = ${now + lease}
          WHERE id IN (SELECT id FROM delivery_queue
            WHERE account = ${account} AND next_attempt_at <= ${now} AND expires_at > ${now}
            ORDER BY next_attempt_at, id LIMIT ${limit} ${lock})
          RETURNING *`)
        const items: Array<DeliveryItem> = []
        for (const row of rows) {
          const item = toItem(row)
          if (Either.isRight(item)) items.push(item.right)
          else yield* Effect.logError(item.left.message)
        }
        return items.sort((a, b) => a.id - b.id)
      })

    const drop = (
      rows: ReadonlyArray<{ id: number | string; account: string; kind: string; message_id: string | null }>,
      status: "expired" | "dropped",
      now: number
    ) =>
      Effect.gen(function*() {
        const receipts = rows.filter((row) => row.kind === "receipt" && row.message_id !== null)
          .map((row) => row.message_id!)
        yield* query(setReceipt(status, now, receipts))
        for (const row of rows) {
          yield* Effect.logWarning(`${row.kind} dropped (${status}) before the customer acknowledged it`).pipe(
            Effect.annotateLogs({
              module: "DeliveryQueue",
              account: row.account,
              delivery: String(row.id),
              ...(row.message_id === null ? {} : { messageId: row.message_id })
            })
          )
        }
      })

    const retry = (
      id: number,
      outcome: Resend.Outcome = "timeout"
    ): Effect.Effect<RetryResult, DeliveryQueueError> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* query(sql<Row>`SELECT * FROM delivery_queue WHERE id = ${id}`)
        if (rows.length === 0) return { _tag: "Unknown" } as const
        const row = rows[0]
        const delay = yield* retryDelay(schedule, Number(row.attempts), outcome)
        const status = typeof outcome === "number" ? outcome : null
        if (Option.isNone(delay)) {
          const deleted = yield* query(sql<Row>`DELETE FROM delivery_queue WHERE id = ${id} RETURNING *`)
          yield* drop(deleted, "dropped", now)
          return { _tag: "Dropped" } as const
        }
        const at = now + delay.value
        yield* query(sql`UPDATE delivery_queue SET leased = 0, next_attempt_at = ${at}, last_status = ${status}
          WHERE id = ${id}`)
        return { _tag: "Rescheduled", at } as const
      })

    const expire: Effect.Effect<number, DeliveryQueueError> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* query(sql<Row>`DELETE FROM delivery_queue WHERE expires_at <= ${now}
        RETURNING id, account, kind, message_id`)
      if (rows.length > 0) yield* drop(rows, "expired", now)
      return rows.length
    })

    const sweepEvery = options?.sweepInterval ?? Duration.minutes(1)
    yield* Effect.forkScoped(
      expire.pipe(
        Effect.catchAll((error) => Effect.logError("delivery queue sweep failed", error)),
        Effect.repeat(Schedule.spaced(sweepEvery))
      )
    )

    return {
      /** Queues a deliver_sm for the account; resolves once committed. */
      enqueue,
      /**
       * Queues many deliver_sm in one write (one commit to wait for); a deliver_sm that
       * cannot be encoded is logged and left out. The items queued, in order.
       */
      enqueueAll,
      /**
       * `enqueueAll` in the caller's transaction, not batched (the caller commits, then
       * `announce`s the items): for one that writes other rows in the same transaction.
       */
      writeAll,
      /** Wakes the deliverers of the items' accounts (after `writeAll`'s transaction committed). */
      announce,
      /** Leases the account's due items (at most `limit`, default 100), oldest first. */
      take,
      /** Acknowledges a delivered item (batched with other acks). */
      ack: (id: number): Effect.Effect<void, DeliveryQueueError> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.asVoid(batcher.submit({ _tag: "Ack", id, now }))),
      /**
       * `ack` without waiting for the commit (the caller's fiber does not suspend): a failure
       * is logged. Losing an ack only means the item is delivered again.
       */
      ackLater: (id: number, now: number): void => {
        if (!batcher.unsafeOffer({ _tag: "Ack", id, now }, onAckDone)) {
          Runtime.runFork(runtime)(Effect.logWarning(`delivery ${id} acknowledged after the queue closed`))
        }
      },
      /** Acknowledges several items. */
      ackAll: (ids: ReadonlyArray<number>): Effect.Effect<void, DeliveryQueueError> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.forEach(ids, (id) => batcher.submit({ _tag: "Ack", id, now }), {
            concurrency: "unbounded",
            discard: true
          })),
      /** A failed attempt: schedules the next by the retry schedule, or drops the item. */
      retry,
      /** Gives leased items back, due at once, their attempt not counted. */
      release,
      /**
       * Holds the account's new items for a deliverer while the Scope lasts: `writeAll` leases
       * them to it (up to its room) and `announce` hands them over, without a `take`.
       */
      claim: (account: string, claim: Claim): Effect.Effect<void, never, Scope.Scope> =>
        Effect.acquireRelease(
          Effect.sync(() => claims.set(account, claim)),
          () => Effect.sync(() => {
            if (claims.get(account) === claim) claims.delete(account)
          })
        ),
      /** Drops every item past its TTL now (the sweeper does this every `sweepInterval`). */
      expire,
      /** When the account's next item is due (a leased one: when its lease ends), if any. */
      nextDueAt: (account: string): Effect.Effect<Option.Option<number>, DeliveryQueueError> =>
        query(Effect.map(
          sql<{ at: number | string | null }>`SELECT MIN(next_attempt_at) AS at FROM delivery_queue
            WHERE account = ${account}`,
          (rows) => rows.length === 0 || rows[0].at === null ? Option.none() : Option.some(Number(rows[0].at))
        )),
      /** Items queued (for one account, or all). */
      size: (account?: string): Effect.Effect<number, DeliveryQueueError> =>
        query(Effect.map(
          account === undefined
            ? sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM delivery_queue`
            : sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM delivery_queue WHERE account = ${account}`,
          (rows) => Number(rows[0].n)
        )),
      /** The accounts something is enqueued for, as it happens (wakes an idle deliverer). */
      subscribe: PubSub.subscribe(enqueued) as Effect.Effect<Queue.Dequeue<string>, never, Scope.Scope>
    }
  })

/**
 * @since 0.1.0
 * @category models
 */
export type Service = Effect.Effect.Success<ReturnType<typeof make>>

/**
 * The queue as a service; `Default` takes TTL, retry, lease and sweep settings from
 * `GatewayConfig` and needs a `SqlClient`.
 *
 * @since 0.1.0
 * @category services
 */
export class DeliveryQueue extends Effect.Service<DeliveryQueue>()("@effect-smpp/gateway/DeliveryQueue", {
  scoped: Effect.gen(function*() {
    const { delivery, store } = yield* GatewayConfig
    return yield* make({
      ttl: delivery.ttl,
      retry: Resend.deliveryPolicy({ base: delivery.retryBase, factor: delivery.retryFactor, cap: delivery.retryCap }),
      lease: delivery.lease,
      sweepInterval: delivery.sweepInterval,
      batchSize: delivery.batchSize,
      batchWindow: delivery.commitWindow,
      // a PostgreSQL store may be shared by several gateways (see `DeliverySettings`)
      releaseLeasesOnStart: delivery.releaseLeasesOnStart ?? store.url === undefined
    })
  }),
  dependencies: [Migrations.Default, GatewayConfig.Default]
}) {}

/**
 * The queue with explicit options, over the `SqlClient` in context (migrations included).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<DeliveryQueue, SqlError | MigrationError | DeliveryQueueError, SqlClient.SqlClient> =>
  Layer.scoped(DeliveryQueue, Effect.map(make(options), DeliveryQueue.make)).pipe(Layer.provide(Migrations.Default))
