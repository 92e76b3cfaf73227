/**
 * The one pipeline every MT message goes through, whether it came over SMPP (submit_sm,
 * data_sm, submit_multi) or over HTTP.
 *
 * `submit(account, pdu)`:
 * 1. checks — known account (ESME_RINVSYSID), allowed source address (ESME_RINVSRCADR),
 *    a destination (ESME_RINVDSTADR) with a route to a registered connector,
 *    registered_delivery (ESME_RINVREGDLVFLG), not both short_message and message_payload
 *    (ESME_RINVMSGLEN), schedule_delivery_time / validity_period (ESME_RINVSCHED /
 *    ESME_RINVEXPIRY, as `MessageStore.fromSubmitSm` reads them; a validity already past is
 *    ESME_RINVEXPIRY), then the account's throughput (`Accounts.admit`, ESME_RTHROTTLED);
 * 2. stores it, committed before anything is answered;
 * 3. a message due now goes to the connector the `Router` picks, at once: if the connector
 *    takes it, the answer is the stored message (with the simulator's `dropResponse`
 *    flag); if it refuses, the answer is the connector's status (ESME_RTHROTTLED,
 *    ESME_RSUBMITFAIL, …), so the customer sees the refusal, and the stored message is set
 *    REJECTED without a receipt (the customer got no id to match one with);
 * 4. a message scheduled for later is answered at once and left to the dispatcher: a fiber
 *    on the Clock that wakes at the earliest schedule_delivery_time, claims the due
 *    messages (`MessageStore.claim`, so a cancelled or replaced-then-claimed one is never
 *    sent twice) and submits them; a connector refusal then sets the message REJECTED and
 *    queues its receipt when asked (through `Outcomes.finish`).
 *
 * `unsafeSubmit` is `submit` as plain callbacks, for the SMPP handler: the checks, then the
 * store's `unsafeInsert` and the connector's `unsafeSubmit` (the simulator's, when it has
 * nothing to draw), with no fiber per message; the refusal at once, or the outcome to a
 * callback. Only the unusual (a failed store, a refusal to record, a connector without
 * `unsafeSubmit`) runs an effect.
 *
 * `query`, `cancel` and `replace` serve query_sm, cancel_sm and replace_sm (only messages
 * scheduled and not yet handed to a connector can be cancelled or replaced);
 * `submitMulti` runs `submit` per destination and collects the unsuccessful ones.
 *
 * On start, messages still ENROUTE at a connector that keeps nothing across a restart (the
 * simulator) are submitted to it again, so that their outcomes, and receipts, are not lost.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import { MessageState } from "@effect-smpp/schema/MessageState"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as SmppTime from "@effect-smpp/schema/SmppTime"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import { Accounts } from "./Accounts.js"
import { Connectors, type Registration } from "./Connectors.js"
import * as MessageStore from "./MessageStore.js"
import { Outcomes, type OutcomesError } from "./Outcomes.js"
import { Router } from "./Router.js"
import { messageHeaderOf } from "./internal/pduFields.js"

// ---------------------------------------------------------------------------
// models

/**
 * Why a request was refused; `status` is the command_status to answer with.
 *
 * @since 0.1.0
 * @category errors
 */
export const SubmitErrorReason = Schema.Literal(
  "UnknownAccount",
  "SourceNotAllowed",
  "InvalidDestination",
  "NoRoute",
  "Invalid",
  "Throttled",
  "Rejected",
  "CancelFailed",
  "ReplaceFailed",
  "Unavailable"
)

/**
 * @since 0.1.0
 * @category errors
 */
export type SubmitErrorReason = typeof SubmitErrorReason.Type

/**
 * A refused submit, cancel or replace, with the command_status to answer (an HTTP API maps
 * `reason` to its own codes).
 *
 * @since 0.1.0
 * @category errors
 */
export class SubmitError extends Schema.TaggedError<SubmitError>()("SubmitError", {
  reason: SubmitErrorReason,
  status: Schema.Number,
  message: Schema.String
}) {}

/**
 * An accepted message. `dropResponse`: the connector (the simulator, on purpose) asks that
 * no response be sent; the message goes on all the same.
 *
 * @since 0.1.0
 * @category models
 */
export interface Submitted {
  readonly message: MessageStore.Message
  readonly dropResponse: boolean
}

/**
 * The result of a submit_multi: one stored message per accepted destination; `messageId`
 * is the first accepted one's id ("" when none was), as submit_multi_resp carries one id.
 *
 * @since 0.1.0
 * @category models
 */
export interface MultiSubmitted {
  readonly messageId: string
  readonly messages: ReadonlyArray<MessageStore.Message>
  readonly unsuccess: ReadonlyArray<Pdu.UnsuccessSme>
  readonly dropResponse: boolean
}

/**
 * cancel_sm: with `id`, that message (and `sourceAddr` when given must match); without,
 * every scheduled message of the account from `sourceAddr` to `destinationAddr` (and of
 * `serviceType` when given).
 *
 * @since 0.1.0
 * @category models
 */
export interface CancelRequest {
  readonly id?: string | undefined
  readonly sourceAddr?: string | undefined
  readonly destinationAddr?: string | undefined
  readonly serviceType?: string | undefined
}

/**
 * replace_sm: the fields given replace the message's; times are SMPP time strings ("" or
 * absent keeps the time), `body` absent or empty keeps the text.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReplaceRequest {
  readonly id: string
  readonly sourceAddr?: string | undefined
  readonly scheduleDeliveryTime?: string | undefined
  readonly validityPeriod?: string | undefined
  readonly registeredDelivery?: number | undefined
  readonly body?: Uint8Array | undefined
}

// ---------------------------------------------------------------------------
// pure helpers

const SHORT_MESSAGE_MAX = 254

/**
 * The submit_sm a data_sm stands for: same addresses and flags, the body from
 * message_payload (in short_message when it fits), no schedule, no validity.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromDataSm = (pdu: Pdu.DataSm): Pdu.SubmitSm => {
  const payload = pdu.tlvs.messagePayload ?? new Uint8Array(0)
  const { messagePayload: _, ...tlvs } = pdu.tlvs
  return Pdu.make("submit_sm", {
    sequenceNumber: pdu.sequenceNumber,
    ...messageHeaderOf(pdu),
    ...(payload.length <= SHORT_MESSAGE_MAX
      ? { shortMessage: payload, tlvs }
      : { tlvs: { ...tlvs, messagePayload: payload } })
  })
}

/**
 * The submit_sm of one SME destination of a submit_multi.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromSubmitMulti = (
  pdu: Pdu.SubmitMulti,
  destination: { readonly destAddrTon: number; readonly destAddrNpi: number; readonly destinationAddr: string }
): Pdu.SubmitSm => {
  const { destAddresses: _, _tag: __, ...rest } = pdu
  return Pdu.make("submit_sm", { ...rest, ...destination })
}

const refuse = (reason: SubmitErrorReason, status: number, message: string) =>
  new SubmitError({ reason, status, message })

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === "" ? undefined : value

const resolveTime = (value: string | undefined, now: number, status: number, field: string) => {
  if (value === undefined || value === "") return Either.right(undefined)
  return Either.match(SmppTime.parse(value), {
    onLeft: (error) => Either.left(refuse("Invalid", status, `${field}: ${error.message}`)),
    onRight: (time) => Either.right(SmppTime.resolve(time, now))
  })
}

// ---------------------------------------------------------------------------
// service

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Scheduled messages handed to connectors at once. Default 16. */
  readonly dispatchConcurrency?: number | undefined
  /**
   * The dispatcher looks at the store at least this often, also when told of nothing
   * (another gateway on the same store may have scheduled messages). Default 1 minute.
   */
  readonly pollInterval?: Duration.DurationInput | undefined
}

const PAGE = 500

/**
 * Builds the pipeline; its dispatcher runs in the Scope. Resubmits what a restart lost first.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options) =>
  Effect.gen(function*() {
    const accounts = yield* Accounts
    const store = yield* MessageStore.MessageStore
    const router = yield* Router
    const connectors = yield* Connectors
    const outcomes = yield* Outcomes
    const sql = yield* SqlClient.SqlClient
    const background = yield* FiberSet.make<void, never>()
    const runBackground = yield* FiberSet.runtime(background)<never>()
    const wake = yield* Queue.sliding<void>(1)
    const pollInterval = Duration.toMillis(options?.pollInterval ?? Duration.minutes(1))

    const unavailable = (error: MessageStore.MessageStoreError) =>
      Effect.zipRight(
        Effect.logError("the message store failed", error),
        Effect.fail(refuse("Unavailable", CommandStatus.ESME_RSYSERR, "the message store is unavailable"))
      )

    const recordUpstreamId = (registration: Registration, id: string, upstreamId: string) => {
      if (registration.recordUpstreamId === false) return
      runBackground(
        store.markSubmitted(id, { connector: registration.connector.name, upstreamId }).pipe(
          Effect.catchAll((error) => Effect.logError(`cannot record the upstream id of ${id}`, error)),
          Effect.asVoid
        )
      )
    }

    // A refusal answered to the customer (who got no id): the message is REJECTED, and its
    // receipt marked as never to be sent, so that the start-up repair does not send one.
    const rejectAnswered = (id: string, status: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        sql`UPDATE messages SET state = ${MessageState.REJECTED}, error_code = ${Math.min(status, 0xff)},
          updated_at = ${now}, done_at = ${now}, receipt = 'dropped'
          WHERE id = ${id} AND state = ${MessageState.ENROUTE}`).pipe(
        Effect.catchAll((error) =>
          Effect.zipRight(
            Effect.logError("the message store failed", error),
            Effect.fail(refuse("Unavailable", CommandStatus.ESME_RSYSERR, "the message store is unavailable"))
          )
        ),
        Effect.asVoid
      )

    /** Hands a stored message to its connector; `Rejected` answers with the connector's status. */
    const dispatch = (registration: Registration, message: MessageStore.Message) =>
      Effect.flatMap(registration.connector.submit(message), (result) => {
        if (result.accepted) {
          recordUpstreamId(registration, message.id, result.upstreamId)
          return Effect.succeed(result.dropResponse === true)
        }
        return Effect.fail(result.status)
      })

    // a stored message to its connector: the answer, or the connector's refusal (the message
    // then REJECTED)
    const rejected = (registration: Registration, stored: MessageStore.Message, status: number) =>
      Effect.zipRight(
        rejectAnswered(stored.id, status),
        Effect.fail(refuse(
          "Rejected",
          status,
          `connector "${registration.connector.name}" refused the message (0x${status.toString(16)})`
        ))
      )
    const dispatchStored = (
      registration: Registration,
      stored: MessageStore.Message
    ): Effect.Effect<Submitted, SubmitError> =>
      Effect.matchEffect(dispatch(registration, stored), {
        onSuccess: (dropResponse) => Effect.succeed({ message: stored, dropResponse }),
        onFailure: (status) => rejected(registration, stored, status)
      })

    // the checks that need no I/O: the message to store and its connector, or the refusal
    // (plain code, no generator: it runs for every message)
    const prepare = (
      account: string,
      pdu: Pdu.SubmitSm,
      now: number
    ): Either.Either<
      { readonly message: MessageStore.NewMessage; readonly registration: Registration; readonly scheduled: boolean },
      SubmitError
    > => {
      if (Option.isNone(accounts.get(account))) {
        return Either.left(refuse("UnknownAccount", CommandStatus.ESME_RINVSYSID, `unknown account "${account}"`))
      }
      if (!accounts.isSourceAllowed(account, pdu.sourceAddr)) {
        return Either.left(
          refuse("SourceNotAllowed", CommandStatus.ESME_RINVSRCADR, `source address "${pdu.sourceAddr}" is not allowed`)
        )
      }
      if (pdu.destinationAddr === "") {
        return Either.left(refuse("InvalidDestination", CommandStatus.ESME_RINVDSTADR, "no destination address"))
      }
      if ((pdu.registeredDelivery & 0x03) === 0x03) {
        return Either.left(
          refuse("Invalid", CommandStatus.ESME_RINVREGDLVFLG, "registered_delivery 3 (bits 1–0) is reserved")
        )
      }
      if (pdu.shortMessage.length > 0 && pdu.tlvs.messagePayload !== undefined) {
        return Either.left(
          refuse("Invalid", CommandStatus.ESME_RINVMSGLEN, "short_message and message_payload in one PDU")
        )
      }
      const connectorName = router.route(pdu.destinationAddr)
      const registration = connectors.get(connectorName)
      if (Option.isNone(registration)) {
        return Either.left(
          refuse("NoRoute", CommandStatus.ESME_RINVDSTADR, `no connector "${connectorName}" for ${pdu.destinationAddr}`)
        )
      }
      const stored = MessageStore.fromSubmitSm(account, pdu, now, connectorName)
      if (Either.isLeft(stored)) return Either.left(refuse("Invalid", stored.left.status, stored.left.message))
      const validity = stored.right.validityPeriod
      if (validity != null && validity <= now) {
        return Either.left(refuse("Invalid", CommandStatus.ESME_RINVEXPIRY, "validity_period has passed"))
      }
      const schedule = stored.right.scheduleDeliveryTime
      const scheduled = schedule != null && schedule > now
      // a scheduled message is routed when it is due (`claim`): the routes may change meanwhile
      const message = scheduled ? { ...stored.right, connector: null } : stored.right
      return Either.right({ message, registration: registration.value, scheduled })
    }

    // a chain of plain callbacks, no generator: it runs for every message
    const submit = (account: string, pdu: Pdu.SubmitSm): Effect.Effect<Submitted, SubmitError> =>
      Effect.clockWith((clock) => {
        const prepared = prepare(account, pdu, clock.unsafeCurrentTimeMillis())
        if (Either.isLeft(prepared)) return Effect.fail(prepared.left)
        const { message, registration, scheduled } = prepared.right
        return Effect.flatMap(accounts.admit(account), (admitted) => {
          if (!admitted) {
            return Effect.fail(refuse("Throttled", CommandStatus.ESME_RTHROTTLED, `"${account}" is over its throughput`))
          }
          return Effect.flatMap(Effect.catchAll(store.insert(message), unavailable), (stored) => {
            if (scheduled) return Effect.as(Queue.offer(wake, undefined), { message: stored, dropResponse: false })
            return dispatchStored(registration, stored)
          })
        })
      })

    // `submit` as plain callbacks, for the SMPP handler: no fiber waits for the commit (each
    // waiting fiber cost more than the rest of the submit). Effects run only off the usual path
    // (a failed store, a refusal to record, a connector without `unsafeSubmit`).
    const runtime = yield* Effect.runtime<never>()
    const clock = yield* Effect.clock
    const runThen = <A, E>(effect: Effect.Effect<A, E>, onDone: (exit: Exit.Exit<A, E>) => void) =>
      Runtime.runFork(runtime)(effect).addObserver(onDone)
    const unsafeSubmit = (
      account: string,
      pdu: Pdu.SubmitSm,
      onDone: (exit: Exit.Exit<Submitted, SubmitError>) => void
    ): Exit.Exit<Submitted, SubmitError> | boolean => {
      const now = clock.unsafeCurrentTimeMillis()
      const prepared = prepare(account, pdu, now)
      if (Either.isLeft(prepared)) return Exit.fail(prepared.left)
      const { message, registration, scheduled } = prepared.right
      // a scheduled message also wakes the dispatcher: `submit` does that
      if (scheduled) return false
      if (!accounts.unsafeAdmit(account, now)) {
        return Exit.fail(refuse("Throttled", CommandStatus.ESME_RTHROTTLED, `"${account}" is over its throughput`))
      }
      const offered = store.unsafeInsert(message, now, (exit) => {
        if (exit._tag === "Failure") return runThen(Effect.catchAll(Effect.failCause(exit.cause), unavailable), onDone)
        const stored = exit.value
        const result = registration.connector.unsafeSubmit?.(stored)
        if (result === undefined) return runThen(dispatchStored(registration, stored), onDone)
        if (!result.accepted) return runThen(rejected(registration, stored, result.status), onDone)
        recordUpstreamId(registration, stored.id, result.upstreamId)
        onDone(Exit.succeed({ message: stored, dropResponse: result.dropResponse === true }))
      })
      if (!offered) {
        return Exit.fail(refuse("Unavailable", CommandStatus.ESME_RSYSERR, "the message store is unavailable"))
      }
      return true
    }

    const submitMulti = (account: string, pdu: Pdu.SubmitMulti): Effect.Effect<MultiSubmitted, SubmitError> =>
      Effect.gen(function*() {
        // a refusal that holds for every destination refuses the PDU
        if (Option.isNone(accounts.get(account))) {
          return yield* refuse("UnknownAccount", CommandStatus.ESME_RINVSYSID, `unknown account "${account}"`)
        }
        if (!accounts.isSourceAllowed(account, pdu.sourceAddr)) {
          return yield* refuse(
            "SourceNotAllowed",
            CommandStatus.ESME_RINVSRCADR,
            `source address "${pdu.sourceAddr}" is not allowed`
          )
        }
        const results = yield* Effect.forEach(pdu.destAddresses, (destination) => {
          if (destination.destFlag === 2) {
            // distribution lists are not kept here
            return Effect.succeed({
              _tag: "Failed" as const,
              unsuccess: {
                destAddrTon: 0,
                destAddrNpi: 0,
                destinationAddr: destination.dlName,
                errorStatusCode: CommandStatus.ESME_RINVDLNAME
              }
            })
          }
          return Effect.match(submit(account, fromSubmitMulti(pdu, destination)), {
            onFailure: (error) => ({
              _tag: "Failed" as const,
              unsuccess: {
                destAddrTon: destination.destAddrTon,
                destAddrNpi: destination.destAddrNpi,
                destinationAddr: destination.destinationAddr,
                errorStatusCode: error.status
              }
            }),
            onSuccess: (submitted) => ({ _tag: "Submitted" as const, submitted })
          })
        }, { concurrency: 8 })
        const messages: Array<MessageStore.Message> = []
        const unsuccess: Array<Pdu.UnsuccessSme> = []
        let dropResponse = false
        for (const result of results) {
          if (result._tag === "Failed") {
            unsuccess.push(result.unsuccess)
          } else {
            messages.push(result.submitted.message)
            dropResponse ||= result.submitted.dropResponse
          }
        }
        return { messageId: messages[0]?.id ?? "", messages, unsuccess, dropResponse }
      })

    const query = (
      account: string,
      id: string,
      sourceAddr?: string
    ): Effect.Effect<Option.Option<MessageStore.Message>, SubmitError> =>
      store.findById(id).pipe(
        Effect.catchAll(unavailable),
        Effect.map(Option.filter((message) =>
          message.account === account &&
          (nonEmpty(sourceAddr) === undefined || message.sourceAddr === sourceAddr)
        ))
      )

    const cancel = (account: string, request: CancelRequest): Effect.Effect<ReadonlyArray<string>, SubmitError> =>
      Effect.gen(function*() {
        const id = nonEmpty(request.id)
        let cancelled: ReadonlyArray<string>
        if (id !== undefined) {
          const message = yield* Effect.catchAll(
            store.cancel({ id, account, sourceAddr: nonEmpty(request.sourceAddr) }),
            unavailable
          )
          cancelled = Option.isSome(message) ? [message.value.id] : []
        } else if (nonEmpty(request.destinationAddr) === undefined) {
          return yield* refuse("CancelFailed", CommandStatus.ESME_RCANCELFAIL, "neither message_id nor destination_addr")
        } else {
          cancelled = yield* Effect.catchAll(
            store.cancelMatching({
              account,
              sourceAddr: request.sourceAddr ?? "",
              destinationAddr: request.destinationAddr!,
              serviceType: nonEmpty(request.serviceType)
            }),
            unavailable
          )
        }
        if (cancelled.length === 0) {
          return yield* refuse(
            "CancelFailed",
            CommandStatus.ESME_RCANCELFAIL,
            "no scheduled message not yet sent matches (unknown, already sent, or final)"
          )
        }
        return cancelled
      })

    const replace = (account: string, request: ReplaceRequest): Effect.Effect<MessageStore.Message, SubmitError> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const schedule = yield* resolveTime(
          request.scheduleDeliveryTime,
          now,
          CommandStatus.ESME_RINVSCHED,
          "schedule_delivery_time"
        )
        const validity = yield* resolveTime(request.validityPeriod, now, CommandStatus.ESME_RINVEXPIRY, "validity_period")
        if (validity !== undefined && validity <= now) {
          return yield* refuse("Invalid", CommandStatus.ESME_RINVEXPIRY, "validity_period has passed")
        }
        const replaced = yield* Effect.catchAll(
          store.replace({
            id: request.id,
            account,
            sourceAddr: nonEmpty(request.sourceAddr),
            replacement: {
              body: request.body !== undefined && request.body.length > 0 ? request.body : undefined,
              registeredDelivery: request.registeredDelivery,
              scheduleDeliveryTime: schedule,
              validityPeriod: validity
            }
          }),
          unavailable
        )
        if (Option.isNone(replaced)) {
          return yield* refuse(
            "ReplaceFailed",
            CommandStatus.ESME_RREPLACEFAIL,
            `no scheduled message ${request.id} not yet sent (unknown, already sent, or final)`
          )
        }
        // the schedule may have moved
        yield* Queue.offer(wake, undefined)
        return replaced.value
      })

    // --- the dispatcher of scheduled messages

    const dispatchScheduled = (message: MessageStore.Message) =>
      Effect.gen(function*() {
        const name = router.route(message.destinationAddr)
        const registration = connectors.get(name)
        if (Option.isNone(registration)) {
          yield* Effect.logWarning(`no connector "${name}" for scheduled message ${message.id}: rejected`)
          yield* outcomes.finish(message.id, { state: MessageState.REJECTED, errorCode: CommandStatus.ESME_RINVDSTADR })
          return
        }
        const claimed = yield* store.claim(message.id, name)
        if (Option.isNone(claimed)) return // cancelled, or claimed by another gateway
        const dispatched = yield* Effect.either(dispatch(registration.value, claimed.value))
        if (Either.isLeft(dispatched)) {
          yield* outcomes.finish(message.id, { state: MessageState.REJECTED, errorCode: Math.min(dispatched.left, 0xff) })
        }
      }).pipe(Effect.catchAll((error) => Effect.logError(`cannot dispatch scheduled message ${message.id}`, error)))

    /** Hands every due scheduled message to its connector; how many were due. */
    const dispatchDue: Effect.Effect<number, MessageStore.MessageStoreError> = Effect.gen(function*() {
      let total = 0
      while (true) {
        const now = yield* Clock.currentTimeMillis
        const due = yield* store.findScheduled({ dueBy: now, limit: PAGE })
        yield* Effect.forEach(due, dispatchScheduled, {
          concurrency: options?.dispatchConcurrency ?? 16,
          discard: true
        })
        total += due.length
        if (due.length < PAGE) return total
      }
    })

    const dispatcher = Effect.gen(function*() {
      while (true) {
        yield* Effect.catchAll(dispatchDue, (error) => Effect.logError("scheduled dispatch failed", error))
        const now = yield* Clock.currentTimeMillis
        const next = yield* Effect.catchAll(
          store.findScheduled({ limit: 1 }),
          (error) => Effect.as(Effect.logError("scheduled dispatch failed", error), [])
        )
        const wait = next.length === 0
          ? pollInterval
          : Math.min(pollInterval, Math.max(0, next[0].scheduleDeliveryTime! - now))
        if (wait > 0) yield* Effect.raceFirst(Effect.sleep(Duration.millis(wait)), Queue.take(wake))
      }
    })

    // --- restart: what a connector that keeps nothing lost

    const resubmit: Effect.Effect<number, OutcomesError | SqlError> = Effect.gen(function*() {
      let total = 0
      for (const registration of connectors.all()) {
        if (registration.resubmitOnRestart !== true) continue
        let after = ""
        while (true) {
          // state = 1 (ENROUTE) as a literal: the partial index messages_enroute serves it
          const rows = yield* sql<{ id: string }>`SELECT id FROM messages
            WHERE connector = ${registration.connector.name} AND state = 1 AND id > ${after}
            ORDER BY id LIMIT ${PAGE}`
          yield* Effect.forEach(rows, (row) =>
            Effect.gen(function*() {
              const message = yield* store.findById(row.id)
              if (Option.isNone(message)) return
              const dispatched = yield* Effect.either(dispatch(registration, message.value))
              if (Either.isLeft(dispatched)) {
                yield* outcomes.finish(row.id, { state: MessageState.REJECTED, errorCode: Math.min(dispatched.left, 0xff) })
              }
            }), { concurrency: 16, discard: true })
          total += rows.length
          if (rows.length < PAGE) break
          after = rows[rows.length - 1].id
        }
      }
      return total
    })

    const resubmitted = yield* resubmit
    if (resubmitted > 0) yield* Effect.logInfo(`submitted ${resubmitted} messages again after a restart`)
    yield* Effect.forkScoped(dispatcher)

    return {
      /** Checks, stores and dispatches one message: the stored message, or the refusal. */
      submit,
      /**
       * `submit` from plain code (the SMPP handler's fast path): an `Exit` when decided at once
       * (a refusal; `onDone` is not called), `true` when `onDone` gets the outcome later (once
       * stored and handed to the connector), `false` when this message needs `submit`
       * (scheduled for later).
       */
      unsafeSubmit,
      /** data_sm: `submit` of the submit_sm it stands for (`fromDataSm`). */
      submitData: (account: string, pdu: Pdu.DataSm): Effect.Effect<Submitted, SubmitError> =>
        submit(account, fromDataSm(pdu)),
      /** submit_multi: `submit` per destination; the refused ones in `unsuccess`. */
      submitMulti,
      /** The account's message (matching `sourceAddr` when given non-empty), if any. */
      query,
      /** Cancels scheduled messages not yet sent; their ids, or CancelFailed. */
      cancel,
      /** Replaces a scheduled message not yet sent; the message as replaced, or ReplaceFailed. */
      replace,
      /** Hands every due scheduled message to its connector now (the dispatcher does this on time). */
      dispatchDue
    }
  }).pipe(Effect.annotateLogs({ module: "Submissions" }))

/**
 * @since 0.1.0
 * @category models
 */
export type Service = Effect.Effect.Success<ReturnType<typeof make>>

/**
 * The pipeline as a service; needs `Accounts`, `MessageStore`, `Router`, `Connectors`,
 * `Outcomes` and the `SqlClient`.
 *
 * @since 0.1.0
 * @category services
 */
export class Submissions extends Effect.Service<Submissions>()("@effect-smpp/gateway/Submissions", {
  scoped: make()
}) {}

/**
 * The pipeline with explicit options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<
  Submissions,
  OutcomesError | SqlError,
  Accounts | MessageStore.MessageStore | Router | Connectors | Outcomes | SqlClient.SqlClient
> => Layer.scoped(Submissions, Effect.map(make(options), Submissions.make))
