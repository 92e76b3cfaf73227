/**
 * Customer accounts: who may bind, how, how often at once and how fast they may submit.
 *
 * - `authenticate` checks a bind's system_id, password (scrypt, constant time) and bind kind;
 *   a refusal carries the command_status of the bind response: unknown system_id →
 *   ESME_RINVSYSID, wrong password → ESME_RINVPASWD, bind kind not allowed or too many
 *   sessions → ESME_RBINDFAIL.
 * - `bind` = `authenticate` + `acquireSession`: the session counts against `maxSessions`
 *   until its Scope closes.
 * - `admit` takes from the account's token bucket (`maxThroughput` per second over all its
 *   sessions, on the Clock; `unsafeAdmit` from plain code); `false` means the caller answers
 *   ESME_RTHROTTLED.
 * - `isSourceAllowed` matches a source_addr against the account's patterns (`*`, `?`);
 *   a refused one is answered ESME_RINVSRCADR.
 *
 * @since 0.1.0
 */
import { CommandStatus } from "@effect-smpp/schema/CommandStatus"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { type AccountSettings, type BindKind, GatewayConfig } from "./GatewayConfig.js"
import * as TokenBucket from "./internal/tokenBucket.js"
import * as Password from "./Password.js"

/**
 * @since 0.1.0
 * @category models
 */
export type { BindKind } from "./GatewayConfig.js"

/**
 * An account as the rest of the gateway sees it (no password).
 *
 * @since 0.1.0
 * @category models
 */
export interface Account {
  readonly systemId: string
  readonly bindKinds: ReadonlyArray<BindKind>
  readonly maxSessions: number
  /** Messages per second over all sessions; `undefined` is no limit. */
  readonly maxThroughput: number | undefined
  readonly sourceAddresses: ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BindRequest {
  readonly systemId: string
  readonly password: string
  readonly kind: BindKind
}

/**
 * @since 0.1.0
 * @category models
 */
export type RefusalReason = "UnknownSystemId" | "WrongPassword" | "BindKindNotAllowed" | "TooManySessions"

const statusOf: Record<RefusalReason, number> = {
  UnknownSystemId: CommandStatus.ESME_RINVSYSID,
  WrongPassword: CommandStatus.ESME_RINVPASWD,
  BindKindNotAllowed: CommandStatus.ESME_RBINDFAIL,
  TooManySessions: CommandStatus.ESME_RBINDFAIL
}

/**
 * A refused bind; `status` is the command_status for the bind response.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError extends Data.TaggedError("AuthenticationError")<{
  readonly reason: RefusalReason
  readonly systemId: string
  readonly status: number
  readonly message: string
}> {}

const refuse = (reason: RefusalReason, systemId: string, message: string) =>
  new AuthenticationError({ reason, systemId, status: statusOf[reason], message })

/**
 * A matcher for source address patterns: `*` any run of characters, `?` one character,
 * everything else literal. No patterns allow nothing.
 *
 * @since 0.1.0
 * @category utils
 */
export const compilePatterns = (patterns: ReadonlyArray<string>): (address: string) => boolean => {
  if (patterns.includes("*")) return () => true
  if (patterns.length === 0) return () => false
  const body = patterns
    .map((pattern) =>
      pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")
    )
    .join("|")
  const regex = new RegExp(`^(?:${body})$`, "s")
  return (address) => regex.test(address)
}

interface Entry {
  readonly account: Account
  readonly verify: (password: string) => Effect.Effect<boolean>
  readonly bucket: TokenBucket.TokenBucket
  readonly sourceAllowed: (address: string) => boolean
  sessions: number
}

const makeEntry = (settings: AccountSettings): Either.Either<Entry, Password.PasswordHashError> => {
  const account: Account = {
    systemId: settings.systemId,
    bindKinds: settings.bindKinds,
    maxSessions: settings.maxSessions,
    maxThroughput: settings.maxThroughput,
    sourceAddresses: settings.sourceAddresses
  }
  const common = {
    account,
    bucket: settings.maxThroughput === undefined
      ? TokenBucket.unlimited
      : TokenBucket.make(settings.maxThroughput, settings.burst ?? Math.max(1, Math.ceil(settings.maxThroughput))),
    sourceAllowed: compilePatterns(settings.sourceAddresses),
    sessions: 0
  }
  if (!Password.isHash(settings.password)) {
    // plain text: only the demo account, which GatewayConfig enforces
    const plain = settings.password
    return Either.right({ ...common, verify: (password) => Effect.sync(() => Password.equalsPlain(password, plain)) })
  }
  return Either.map(Password.parse(settings.password), (hash) => ({
    ...common,
    // a failing scrypt call is a defect of the host, not a wrong password
    verify: (password: string) => Effect.orDie(Password.verify(password, hash))
  }))
}

/**
 * Builds the accounts service from account settings.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (accounts: ReadonlyArray<AccountSettings>) =>
  Effect.gen(function*() {
    const entries = new Map<string, Entry>()
    for (const settings of accounts) entries.set(settings.systemId, yield* makeEntry(settings))

    const authenticate = (request: BindRequest): Effect.Effect<Account, AuthenticationError> =>
      Effect.gen(function*() {
        const entry = entries.get(request.systemId)
        if (entry === undefined) {
          return yield* refuse("UnknownSystemId", request.systemId, `unknown system_id "${request.systemId}"`)
        }
        if (!(yield* entry.verify(request.password))) {
          return yield* refuse("WrongPassword", request.systemId, `wrong password for "${request.systemId}"`)
        }
        if (!entry.account.bindKinds.includes(request.kind)) {
          return yield* refuse(
            "BindKindNotAllowed",
            request.systemId,
            `"${request.systemId}" may not bind as ${request.kind}`
          )
        }
        return entry.account
      })

    const acquireSession = (systemId: string): Effect.Effect<void, AuthenticationError, Scope.Scope> =>
      Effect.acquireRelease(
        Effect.suspend(() => {
          const entry = entries.get(systemId)
          if (entry === undefined) {
            return Effect.fail(refuse("UnknownSystemId", systemId, `unknown system_id "${systemId}"`))
          }
          if (entry.sessions >= entry.account.maxSessions) {
            return Effect.fail(
              refuse("TooManySessions", systemId, `"${systemId}" has ${entry.sessions} sessions, the most it may have`)
            )
          }
          entry.sessions++
          return Effect.succeed(entry)
        }),
        (entry) =>
          Effect.sync(() => {
            entry.sessions--
          })
      ).pipe(Effect.asVoid)

    return {
      /** Checks system_id, password and bind kind; the account, or the refusal with its status. */
      authenticate,
      /** Counts a session of the account until the Scope closes; refused beyond `maxSessions`. */
      acquireSession,
      /** `authenticate`, then `acquireSession` in the Scope. */
      bind: (request: BindRequest): Effect.Effect<Account, AuthenticationError, Scope.Scope> =>
        Effect.tap(authenticate(request), (account) => acquireSession(account.systemId)),
      /** Takes `count` (default 1) from the account's throughput; `false`: answer ESME_RTHROTTLED. */
      admit: (systemId: string, count?: number): Effect.Effect<boolean> => {
        const entry = entries.get(systemId)
        return entry === undefined ? Effect.succeed(false) : entry.bucket.take(count)
      },
      /** `admit` at `now` (the Clock's time, read by the caller), from plain code. */
      unsafeAdmit: (systemId: string, now: number, count?: number): boolean => {
        const entry = entries.get(systemId)
        return entry === undefined ? false : entry.bucket.unsafeTake(now, count)
      },
      /** Whether the account may use this source_addr. */
      isSourceAllowed: (systemId: string, sourceAddr: string): boolean =>
        entries.get(systemId)?.sourceAllowed(sourceAddr) ?? false,
      get: (systemId: string): Option.Option<Account> =>
        Option.map(Option.fromNullable(entries.get(systemId)), (entry) => entry.account),
      /** Sessions the account holds now. */
      sessions: (systemId: string): number => entries.get(systemId)?.sessions ?? 0,
      all: (): ReadonlyArray<Account> => [...entries.values()].map((entry) => entry.account)
    }
  })

/**
 * The accounts as a service; `Default` reads them from `GatewayConfig`.
 *
 * @since 0.1.0
 * @category services
 */
export class Accounts extends Effect.Service<Accounts>()("@effect-smpp/gateway/Accounts", {
  effect: Effect.flatMap(GatewayConfig, (config) => make(config.accounts)),
  dependencies: [GatewayConfig.Default]
}) {}

/**
 * The service from account settings in hand (tests, embedding).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (accounts: ReadonlyArray<AccountSettings>): Layer.Layer<Accounts, Password.PasswordHashError> =>
  Layer.effect(Accounts, Effect.map(make(accounts), Accounts.make))
