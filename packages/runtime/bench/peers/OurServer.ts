/**
 * Benchmark peer: our SmppServer on 127.0.0.1 (a free port), answering every submit_sm with a
 * fresh message id. Reports its port, then its memory on demand.
 */
import * as Pdu from "@effect-smpp/schema/Pdu"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Queue from "effect/Queue"
import * as SmppServer from "../../src/SmppServer.js"
import { configOf, measureMemory, onCommand, report, type ServerConfig } from "./Protocol.js"

const config = configOf<ServerConfig>()

let n = 0
let bound = 0

const program = Effect.gen(function*() {
  const server = yield* SmppServer.make({
    host: "127.0.0.1",
    port: 0,
    authenticate: SmppServer.passwords({ bench: "secret" }),
    handlers: {
      submit_sm: () => Effect.succeed(Pdu.make("submit_sm_resp", { messageId: String(++n) }))
    },
    session: config.enquireLinkMs === undefined ? {} : { enquireLinkInterval: Duration.millis(config.enquireLinkMs) }
  })
  // Bound sessions, counted from the server's events.
  const events = yield* server.subscribe
  yield* Effect.forkScoped(Effect.forever(Effect.map(Queue.takeBetween(events, 1, 4096), (chunk) => {
    for (const event of chunk) {
      if (event._tag === "Bound") bound++
      else if (event._tag === "Closed" && event.systemId !== undefined) bound--
    }
  })))
  report({ type: "listening", port: server.address!.port })
  return yield* Effect.never
}).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning))

onCommand((command) => {
  if (command.cmd === "exit") process.exit(0)
  void measureMemory().then((memory) => report({ type: "memory", ...memory, sessions: bound }))
})

Effect.runPromise(program).catch((error) => {
  report({ type: "error", message: String(error) })
  process.exit(1)
})
