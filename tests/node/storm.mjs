/**
 * storm.mjs — a reconnect storm: N stock y-websocket providers connect to one document at
 * once and keep retrying (their own jittered back-off) until synced or the deadline.
 *
 *   node storm.mjs --url ws://127.0.0.1:PORT/ws/docs --doc DOCID[,DOCID...] --token T --clients 2000 --deadline-ms 60000
 *
 * With several documents, client i opens document i modulo their number.
 *
 * Prints one JSON line: {clients, synced, refusals: {code: count}, reasons: [up to 5 distinct],
 * texts: {text: count}, syncMs: {p50, p99, max} (socket open to synced), seconds}; exit code 0 when every client synced before the deadline.
 */
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import * as Y from 'yjs'

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, value, index, all) => {
  if (value.startsWith('--')) acc.push([value.slice(2), all[index + 1]])
  return acc
}, []))
const clients = Number(args.clients ?? 2000)
const deadline = Date.now() + Number(args['deadline-ms'] ?? 60000)
const started = Date.now()
const refusals = {}
const reasons = new Set()
const providers = []
let synced = 0
let connectErrors = 0 // sockets that failed before opening (the client then backs off)
const syncDelays = [] // ms from the socket opening to the first SyncStep2, per client

const documents = String(args.doc).split(',')
for (let i = 0; i < clients; i++) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(args.url, documents[i % documents.length], doc, {
    params: { token: args.token },
    WebSocketPolyfill: WebSocket,
    disableBc: true,
    maxBackoffTime: 5000
  })
  provider.on('connection-error', () => { connectErrors++ })
  provider.on('connection-close', (event) => {
    if (event && event.code >= 4000) {
      refusals[event.code] = (refusals[event.code] ?? 0) + 1
      if (reasons.size < 5) reasons.add(String(event.reason))
    }
  })
  let openedAt = null
  provider.on('status', ({ status }) => { if (status === 'connected') openedAt = Date.now() })
  provider.once('synced', () => {
    synced++
    if (openedAt !== null) syncDelays.push(Date.now() - openedAt)
  })
  providers.push({ doc, provider })
}

const finish = () => {
  const texts = {}
  for (const { doc, provider } of providers) {
    const text = doc.getText('t').toString()
    texts[text] = (texts[text] ?? 0) + 1
    provider.destroy()
  }
  syncDelays.sort((a, b) => a - b)
  const at = (q) => syncDelays.length ? syncDelays[Math.min(syncDelays.length - 1, Math.floor(q * syncDelays.length))] : null
  const syncMs = { p50: at(0.5), p99: at(0.99), max: at(1) }
  const result = { clients, synced, connectErrors, refusals, reasons: [...reasons], texts, syncMs, seconds: (Date.now() - started) / 1000 }
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(synced === clients ? 0 : 1)
}

// Progress on stderr every 5 s: synced so far, refusals, sockets that never opened.
const progress = setInterval(() => {
  const refused = Object.values(refusals).reduce((a, b) => a + b, 0)
  process.stderr.write(`[storm] ${((Date.now() - started) / 1000).toFixed(0)} s: ${synced} synced, ${refused} refused, ${connectErrors} connect errors\n`)
}, 5000)

const timer = setInterval(() => {
  if (synced === clients || Date.now() > deadline) {
    clearInterval(timer)
    clearInterval(progress)
    setTimeout(finish, 200)
  }
}, 100)
