/**
 * The gateway's SMPP side: the runtime's `SmppServer` with the gateway's accounts and
 * handlers.
 *
 * - Binds are decided by `Accounts` (unknown system_id → ESME_RINVSYSID, wrong password →
 *   ESME_RINVPASWD, bind kind not allowed or too many sessions → ESME_RBINDFAIL); an accepted
 *   bind counts against the account's `maxSessions` until its session ends.
 * - submit_sm, data_sm and submit_multi go through `Submissions` and are answered with the
 *   message id (submit_multi with its unsuccess_sme list), or the refusal's status; when the
 *   simulator drops the response on purpose, nothing is answered. submit_sm and data_sm take
 *   a fast path (`Submissions.unsafeSubmit`): the handler answers `answerLater` at once and
 *   the response is sent once the message is committed and with its connector, by one
 *   responder fiber for all responses ready — no handler fiber waits per message (that wait
 *   cost more than the rest of the submit). Up to 512 per session; beyond, and for a message
 *   scheduled for later, the handler waits as it does for the other requests (the session's
 *   `handlerConcurrency` then holds back a peer that sends faster than the store commits). On
 *   close, the fast path's submits are answered before the server closes, and an ESME that
 *   unbinds gets them before its unbind_resp (they are owed to it).
 * - query_sm is answered from the store (final_date, message_state, error_code; unknown →
 *   ESME_RQUERYFAIL), cancel_sm and replace_sm act on scheduled messages not yet sent
 *   (ESME_RCANCELFAIL / ESME_RREPLACEFAIL otherwise).
 * - enquire_link, unbind and generic_nack are the session's own: an idle session gets an
 *   enquire_link after 30 s, and one that leaves three in a row unanswered is closed.
 *
 * The layer provides the runtime's `SmppServer` tag: the `Deliverer` and the HTTP API use it.
 *
 * @since 0.1.0
 */
import * as SmppServer from "@effect-smpp/runtime/SmppServer"
import * as Session from "@effect-smpp/runtime/Session"
import type { TransportError } from "@effect-smpp/runtime/Transport"
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as SmppTime from "@effect-smpp/schema/SmppTime"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { Accounts } from "./Accounts.js"
import { GatewayConfig } from "./GatewayConfig.js"
import type { Message } from "./MessageStore.js"
import { fromDataSm, Submissions } from "./Submissions.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default `0.0.0.0`. */
  readonly host?: string | undefined
  /** Default 2775; 0 for any free port. */
  readonly port?: number | undefined
  /** `false`: listen on no port, take connections only through `SmppServer.handle` (tests). */
  readonly listen?: boolean | undefined
  /** system_id in bind responses. Default `effect-smpp`. */
  readonly systemId?: string | undefined
  /**
   * Options of each session, over the gateway's defaults: enquire_link after 30 s idle,
   * dead after 3 missed, a window of 100 deliveries in flight.
   */
  readonly session?: SmppServer.SessionOptions | undefined
}

/**
 * The session defaults of the gateway.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSessionOptions: SmppServer.SessionOptions = {
  enquireLinkInterval: Duration.seconds(30),
  maxMissedEnquireLinks: 3,
  windowSize: 100,
  handlerConcurrency: 64
}

// submit_sm on the fast path waiting for their commit, per session at most
const FAST_PENDING = 512

const finalDate = (message: Message): string =>
  message.doneAt === null ? "" : SmppTime.format(SmppTime.fromEpochMillis(message.doneAt))

/**
 * The query_sm_resp of a stored message.
 *
 * @since 0.1.0
 * @category responses
 */
export const queryResponse = (message: Message): Pdu.QuerySmResp =>
  Pdu.make("query_sm_resp", {
    messageId: message.id,
    finalDate: finalDate(message),
    messageState: message.state,
    errorCode: Math.min(message.errorCode, 0xff)
  })

/**
 * Starts the SMPP server of the gateway; it runs until the Scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options) =>
  Effect.gen(function*() {
    const accounts = yield* Accounts
    const submissions = yield* Submissions
    const server = yield* Deferred.make<SmppServer.SmppServer>()
    const holders = yield* FiberSet.make<void, never>()
    const runHolder = yield* FiberSet.runtime(holders)<never>()

    // The runtime's authenticate has no session Scope: the account's session count is taken
    // in a Scope of our own, closed by a fiber that waits for the end of that session.
    const holdUntilClosed = (sessionId: string, scope: Scope.CloseableScope) =>
      runHolder(
        Effect.gen(function*() {
          const sessions = yield* Effect.flatMap(Deferred.await(server), (s) => s.sessions)
          const info = sessions.find((session) => session.id === sessionId)
          if (info !== undefined) yield* Effect.asVoid(info.session.closed)
        }).pipe(Effect.ensuring(Scope.close(scope, Exit.void)))
      )

    const authenticate: SmppServer.Authenticate = (bind) =>
      Effect.gen(function*() {
        const authenticated = yield* Effect.either(
          accounts.authenticate({ systemId: bind.systemId, password: bind.password, kind: bind.kind })
        )
        if (Either.isLeft(authenticated)) return authenticated.left.status
        const scope = yield* Scope.make()
        const acquired = yield* Effect.either(Scope.extend(accounts.acquireSession(bind.systemId), scope))
        if (Either.isLeft(acquired)) {
          yield* Scope.close(scope, Exit.void)
          return acquired.left.status
        }
        holdUntilClosed(bind.sessionId, scope)
        return CommandStatus.ESME_ROK
      })

    // The submit fast path (submit_sm, and data_sm as the submit_sm it stands for): the handler
    // answers `answerLater` at once (an Exit: the session needs no fiber for it), and the
    // response is sent once the message is committed and handed to its connector
    // (`Submissions.unsafeSubmit`), by one responder fiber for all the responses that are
    // ready, instead of a handler fiber waiting per message. Beyond `FAST_PENDING` waiting on
    // one session, submits take the handler path, whose `handlerConcurrency` holds back a peer
    // that sends faster than the store commits. A response the simulator drops is given up
    // (`unanswered`): an unbind does not wait for it.
    const pendingBySession = new Map<string, number>()
    let pendingTotal = 0
    const responses: Array<readonly [Session.Session, Pdu.SubmitSmResp | Pdu.DataSmResp]> = []
    let wakeResponder: (() => void) | undefined
    let whenIdle: (() => void) | undefined
    const checkIdle = () => {
      if (whenIdle !== undefined && pendingTotal === 0 && responses.length === 0) {
        const idle = whenIdle
        whenIdle = undefined
        idle()
      }
    }
    const settle = (sessionId: string) => {
      pendingTotal--
      const pending = pendingBySession.get(sessionId)! - 1
      if (pending === 0) pendingBySession.delete(sessionId)
      else pendingBySession.set(sessionId, pending)
    }
    const respond = (session: Session.Session, response: Pdu.SubmitSmResp | Pdu.DataSmResp) => {
      responses.push([session, response])
      if (wakeResponder !== undefined) {
        const wake = wakeResponder
        wakeResponder = undefined
        wake()
      }
    }
    yield* Effect.forkScoped(Effect.gen(function*() {
      while (true) {
        if (responses.length === 0) {
          yield* Effect.async<void>((resume) => {
            wakeResponder = () => resume(Effect.void)
          })
        }
        const ready = responses.splice(0, responses.length)
        // a session that closed meanwhile cannot be answered: nothing to do about it
        for (const [session, response] of ready) yield* Effect.ignore(session.send(response))
        checkIdle()
      }
    }))
    // Owed: a peer that unbinds without waiting still gets these answers before its unbind_resp.
    const answerLater = Effect.succeed(Session.answerLater)
    /** The response to a `kind` request: submit_sm_resp and data_sm_resp carry the same fields. */
    const responseOf = <K extends "submit_sm" | "data_sm">(
      kind: K,
      fields: { readonly sequenceNumber?: number; readonly commandStatus?: number; readonly messageId?: string }
    ) =>
      Pdu.make(kind === "submit_sm" ? "submit_sm_resp" : "data_sm_resp", fields) as Pdu.PduOf<Session.ResponseNames[K]>
    /**
     * `pdu` (a submit_sm, or the one a data_sm stands for) on the fast path, answered with the
     * `kind`'s response; undefined when it takes the handler path.
     */
    const fastSubmit = <K extends "submit_sm" | "data_sm">(
      pdu: Pdu.SubmitSm,
      context: SmppServer.RequestContext,
      kind: K
    ): Effect.Effect<SmppServer.HandlerResult<K>> | undefined => {
      const sessionId = context.sessionId
      const pending = pendingBySession.get(sessionId) ?? 0
      if (pending >= FAST_PENDING) return undefined
      const session = context.session
      const sequenceNumber = pdu.sequenceNumber
      pendingBySession.set(sessionId, pending + 1)
      pendingTotal++
      const decided = submissions.unsafeSubmit(context.systemId, pdu, (exit) => {
        settle(sessionId)
        if (exit._tag === "Success") {
          if (exit.value.dropResponse) {
            session.unanswered(sequenceNumber)
            return checkIdle()
          }
          return respond(session, responseOf(kind, { sequenceNumber, messageId: exit.value.message.id }))
        }
        const failure = Cause.failureOption(exit.cause)
        const commandStatus = Option.isSome(failure) ? failure.value.status : CommandStatus.ESME_RSYSERR
        respond(session, responseOf(kind, { sequenceNumber, commandStatus }))
      })
      if (decided === true) return answerLater
      settle(sessionId)
      if (decided === false) return undefined
      return Exit.isSuccess(decided)
        ? Effect.succeed(responseOf(kind, { messageId: decided.value.message.id }))
        : Exit.match(decided, {
          onFailure: (cause) => {
            const failure = Cause.failureOption(cause)
            return Effect.succeed(Option.isSome(failure) ? failure.value.status : CommandStatus.ESME_RSYSERR)
          },
          onSuccess: () => Effect.succeed(CommandStatus.ESME_RSYSERR)
        })
    }

    const handlers: SmppServer.Handlers = {
      submit_sm: (pdu, context) =>
        fastSubmit(pdu, context, "submit_sm") ?? Effect.match(submissions.submit(context.systemId, pdu), {
          onFailure: (error) => error.status,
          onSuccess: (submitted) =>
            submitted.dropResponse
              ? Session.noResponse
              : Pdu.make("submit_sm_resp", { messageId: submitted.message.id })
        }),
      data_sm: (pdu, context) =>
        fastSubmit(fromDataSm(pdu), context, "data_sm") ?? Effect.match(submissions.submitData(context.systemId, pdu), {
          onFailure: (error) => error.status,
          onSuccess: (submitted) =>
            submitted.dropResponse
              ? Session.noResponse
              : Pdu.make("data_sm_resp", { messageId: submitted.message.id })
        }),
      submit_multi: (pdu, context) =>
        Effect.match(submissions.submitMulti(context.systemId, pdu), {
          onFailure: (error) => error.status,
          onSuccess: (submitted) =>
            submitted.dropResponse
              ? Session.noResponse
              : Pdu.make("submit_multi_resp", { messageId: submitted.messageId, unsuccessSmes: submitted.unsuccess })
        }),
      query_sm: (pdu, context) =>
        Effect.match(submissions.query(context.systemId, pdu.messageId, pdu.sourceAddr), {
          onFailure: (error) => error.status,
          onSuccess: Option.match({ onNone: () => CommandStatus.ESME_RQUERYFAIL, onSome: queryResponse })
        }),
      cancel_sm: (pdu, context) =>
        Effect.match(
          submissions.cancel(context.systemId, {
            id: pdu.messageId,
            sourceAddr: pdu.sourceAddr,
            destinationAddr: pdu.destinationAddr,
            serviceType: pdu.serviceType
          }),
          { onFailure: (error) => error.status, onSuccess: () => CommandStatus.ESME_ROK }
        ),
      replace_sm: (pdu, context) =>
        Effect.match(
          submissions.replace(context.systemId, {
            id: pdu.messageId,
            sourceAddr: pdu.sourceAddr,
            scheduleDeliveryTime: pdu.scheduleDeliveryTime,
            validityPeriod: pdu.validityPeriod,
            registeredDelivery: pdu.registeredDelivery,
            body: pdu.shortMessage
          }),
          { onFailure: (error) => error.status, onSuccess: () => CommandStatus.ESME_ROK }
        )
    }

    const smsc = yield* SmppServer.make({
      host: options?.host,
      port: options?.listen === false ? undefined : options?.port ?? 2775,
      systemId: options?.systemId,
      name: "smsc",
      authenticate,
      handlers,
      session: { ...defaultSessionOptions, ...options?.session }
    })
    yield* Deferred.succeed(server, smsc)
    // on close, the submits still on the fast path are answered before the server closes
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        whenIdle = () => resume(Effect.void)
        checkIdle()
      })
    )
    return smsc
  })

/**
 * The SMPP server of the gateway on `GatewayConfig`'s `smpp` address.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  SmppServer.SmppServer,
  TransportError,
  Accounts | Submissions | GatewayConfig
> = Layer.scoped(
  SmppServer.SmppServer,
  Effect.flatMap(GatewayConfig, (config) => make({ host: config.smpp.host, port: config.smpp.port }))
)

/**
 * The SMPP server with explicit options (tests: port 0).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: Options
): Layer.Layer<SmppServer.SmppServer, TransportError, Accounts | Submissions> =>
  Layer.scoped(SmppServer.SmppServer, make(options))
