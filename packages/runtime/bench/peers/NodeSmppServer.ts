/**
 * Benchmark peer: node-smpp's server on 127.0.0.1 (a free port), written the way its README
 * shows: bind accepted for bench/secret, every submit_sm answered with a fresh message id,
 * enquire_link and unbind answered. Reports its port, then its memory on demand.
 */
import smpp, { type PDU, type Session } from "smpp"
import { measureMemory, onCommand, report } from "./Protocol.js"

let n = 0
let bound = 0

const server = smpp.createServer({}, (session: Session) => {
  let isBound = false
  session.on("error", () => {})
  session.on("close", () => {
    if (isBound) bound--
  })
  const bind = (pdu: PDU) => {
    const ok = pdu.system_id === "bench" && pdu.password === "secret"
    session.send(pdu.response(ok ? { system_id: "node-smpp" } : { command_status: 0x0e }))
    if (ok && !isBound) {
      isBound = true
      bound++
    }
  }
  session.on("bind_transceiver", bind)
  session.on("bind_transmitter", bind)
  session.on("bind_receiver", bind)
  session.on("submit_sm", (pdu: PDU) => {
    session.send(pdu.response({ message_id: String(++n) }))
  })
  session.on("enquire_link", (pdu: PDU) => {
    session.send(pdu.response())
  })
  session.on("unbind", (pdu: PDU) => {
    session.send(pdu.response())
    session.close()
  })
})
server.on("error", (error: Error) => {
  report({ type: "error", message: String(error) })
  process.exit(1)
})
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  report({ type: "listening", port: typeof address === "object" && address !== null ? address.port : 0 })
})

onCommand((command) => {
  if (command.cmd === "exit") process.exit(0)
  void measureMemory().then((memory) => report({ type: "memory", ...memory, sessions: bound }))
})
