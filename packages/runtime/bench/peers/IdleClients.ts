/**
 * Benchmark peer: many idle sessions against one server, the same client for every server
 * measured (node-smpp sessions: the lightest client at hand, and not the thing measured).
 * Each connects, binds as a transceiver, answers the server's enquire_link and sends its own
 * every `enquireLinkMs`. Reports how many are bound, then stays until told to exit.
 */
import smpp, { type PDU, type Session } from "smpp"
import { configOf, type IdleConfig, onCommand, report } from "./Protocol.js"

const config = configOf<IdleConfig>()
const sessions: Array<Session> = []

const open = (): Promise<boolean> =>
  new Promise((resolve) => {
    const session = smpp.connect({ host: "127.0.0.1", port: config.port, auto_enquire_link_period: config.enquireLinkMs })
    session.on("error", () => resolve(false))
    session.on("close", () => resolve(false))
    session.on("enquire_link", (pdu: PDU) => session.send(pdu.response()))
    session.once("connect", () => {
      session.bind_transceiver({ system_id: "bench", password: "secret" }, (pdu) => {
        if (pdu.command_status === 0) sessions.push(session)
        resolve(pdu.command_status === 0)
      })
    })
  })

const main = async () => {
  const start = performance.now()
  let next = 0
  let failed = 0
  const worker = async () => {
    while (next < config.sessions) {
      next++
      if (!(await open())) failed++
    }
  }
  await Promise.all(Array.from({ length: config.parallel }, worker))
  report({ type: "bound", sessions: sessions.length, failed, elapsedMs: performance.now() - start })
}

onCommand((command) => {
  if (command.cmd === "exit") process.exit(0)
})

main().catch((error) => {
  report({ type: "error", message: String(error) })
  process.exit(1)
})
