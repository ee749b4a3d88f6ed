#!/usr/bin/env node
/**
 * yclient.mjs — a scriptable Yjs client for end-to-end tests (driven over stdio).
 *
 * Usage:
 *   node yclient.mjs --url ws://127.0.0.1:PORT/ws/docs --doc DOCID [--token T] [--name NAME]
 *                    [--no-reconnect] [--max-backoff-ms N]
 *
 * It creates one Y.Doc and connects a stock y-websocket `WebsocketProvider`
 * (`new WebsocketProvider(url, doc, ydoc, { params: { token }, WebSocketPolyfill: ws, disableBc: true })`),
 * so the socket URL is `${url}/${doc}?token=${token}` (no `?token=` when --token is omitted).
 * Against the reference y-websocket server use `--url ws://127.0.0.1:1234` and no token.
 *
 *   --name NAME        label used in stderr logs; also sets the initial awareness local state to
 *                      {"user":{"name":NAME}} (without it the awareness local state is {}).
 *   --no-reconnect     after the server closes the socket, do NOT reconnect (the stock provider
 *                      reconnects with exponential backoff otherwise, producing one "close" event
 *                      per attempt). `connect` re-enables connecting.
 *   --max-backoff-ms N maximum reconnect backoff (default 2500, the provider's default).
 *
 * ---------------------------------------------------------------------------------------------
 * JSON-lines protocol
 * ---------------------------------------------------------------------------------------------
 * stdin:  one JSON object per line (a command). stdout: one JSON object per line, nothing else
 * (all logs go to stderr). The process exits when stdin closes or on the `exit` command.
 *
 * Every command has an "id" (any JSON value, echoed back) and a "cmd" (string), and gets exactly
 * one reply:
 *     {"id": ..., "ok": true, ...result fields}
 *     {"id": ..., "ok": false, "error": "message"}
 * A line that is not valid JSON gets {"id": null, "ok": false, "error": "bad json: ..."}.
 * Commands are started in the order they are read; synchronous ones (insert, text, ...) complete
 * before the next line is read, waiting ones (wait_*, type_done) run concurrently, so replies of
 * waiting commands may come after replies of later commands — match them by id.
 *
 * Unsolicited events (no "id"):
 *     {"event": "status", "status": "connected" | "disconnected"}
 *     {"event": "synced"}                                       provider.synced became true
 *     {"event": "close", "code": N, "reason": "...", "wasClean": bool}
 *         the websocket close code/reason as received from the server (e.g. 4400, 4401, 4403,
 *         4404, 1009; 1006 = abnormal close, e.g. the HTTP upgrade was refused or the server died).
 *         A close initiated locally (disconnect / set_url / exit / provider's 30 s silence timeout)
 *         is reported as {"event": "close", "code": null, "reason": "local", "local": true}.
 *     {"event": "permission_denied", "reason": "..."}          an Auth permission-denied frame
 *     {"event": "error", "message": "..."}                      websocket error (e.g.
 *         "Unexpected server response: 403" when the upgrade is refused, ECONNREFUSED)
 *
 * Commands ("name" optional everywhere text is involved: the Y.Text name, default "t"):
 *   wait_synced {timeout_ms=10000}            -> {}            ok once provider.synced is true
 *   insert      {index, text, name?}          -> {}            one transaction
 *   delete      {index, length, name?}        -> {}            one transaction
 *   text        {name?}                       -> {text}
 *   type        {text, interval_ms=50, name?, at?} -> {}       returns immediately; inserts the
 *               characters one at a time at the END of the text (at="start": at index 0, so
 *               each insert builds on the latest one), one transaction each, every
 *               interval_ms. A `type` while typing is in progress queues its characters.
 *   type_done   {timeout_ms=30000}            -> {typed: N}    waits until the queue is empty;
 *               N = characters typed since typing last started from idle.
 *   wait_text   {equals?, contains?, timeout_ms=10000, name?} -> {text}
 *               on timeout: ok:false, error contains the last text (JSON-quoted).
 *   state_vector                              -> {sv: base64(Y.encodeStateVector(doc))}
 *   update                                    -> {update: base64(Y.encodeStateAsUpdate(doc))}
 *   apply_update {update: base64}             -> {}            Y.applyUpdate on the local doc
 *   set_url     {url, token?}                 -> {}            destroy the provider, create a new one
 *               on the same Y.Doc (and awareness) against the new base URL (token kept unless
 *               given; token:null removes it), which starts connecting. Follow with wait_synced.
 *   disconnect                                -> {}            provider.disconnect()
 *   connect                                   -> {}            provider.connect()
 *   awareness_set {state}                     -> {}            awareness.setLocalState(state)
 *   awareness                                 -> {states: {clientID: state}, client_id}
 *               all states known locally (own + remote).
 *   raw_send    {hex}                         -> {}            send one binary frame on the current
 *               websocket (error if not open).
 *   map_set     {map="m", key, value}         -> {}            one transaction: Y.Map set
 *   map         {map="m"}                     -> {entries}     the map as JSON
 *   map_seen    {map="m", key}                -> {values}      every value the key took in this doc,
 *               in order (recorded from the first map command on; includes local changes)
 *   wait_map    {map="m", key, equals, timeout_ms=10000} -> {value}
 *   status                                    -> {connected, synced, url, client_id}
 *   exit                                      -> {}            reply, then exit(0)
 * ---------------------------------------------------------------------------------------------
 */

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import readline from 'node:readline'

// Nothing but protocol lines may go to stdout.
console.log = console.error
console.info = console.error
console.debug = console.error
// y-websocket reports an Auth permission-denied frame with console.warn: tell the driver.
const warn = console.warn
console.warn = (...a) => {
  const text = a.map(String).join(' ')
  const denied = /^Permission denied to access [^\n]*\n([\s\S]*)$/.exec(text)
  if (denied) process.stdout.write(JSON.stringify({ event: 'permission_denied', reason: denied[1] }) + '\n')
  warn(...a)
}

function parseArgs (argv) {
  const opts = { url: null, doc: null, token: null, name: null, reconnect: true, maxBackoffMs: 2500 }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value for ${a}`)
      return argv[++i]
    }
    switch (a) {
      case '--url': opts.url = next(); break
      case '--doc': opts.doc = next(); break
      case '--token': opts.token = next(); break
      case '--name': opts.name = next(); break
      case '--no-reconnect': opts.reconnect = false; break
      case '--max-backoff-ms': opts.maxBackoffMs = Number(next()); break
      case '-h': case '--help':
        process.stderr.write('usage: node yclient.mjs --url WSURL --doc DOCID [--token T] [--name NAME] [--no-reconnect] [--max-backoff-ms N]\n')
        process.exit(0)
        break
      default: die(`unknown argument ${a}`)
    }
  }
  if (!opts.url || !opts.doc) die('--url and --doc are required')
  return opts
}

function die (msg) {
  process.stderr.write(`yclient: ${msg}\n`)
  process.exit(2)
}

const opts = parseArgs(process.argv.slice(2))
const label = opts.name || opts.doc
const log = (...a) => console.error(`[yclient ${label}]`, ...a)

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

const doc = new Y.Doc()
let provider = null
let awareness = null // kept across set_url
let serverUrl = opts.url
let token = opts.token

function makeProvider () {
  const params = token != null ? { token: String(token) } : {}
  const p = new WebsocketProvider(serverUrl, opts.doc, doc, {
    params,
    WebSocketPolyfill: WebSocket,
    disableBc: true,
    maxBackoffTime: opts.maxBackoffMs,
    connect: false,
    ...(awareness ? { awareness } : {})
  })
  awareness = p.awareness
  p.on('status', ({ status }) => {
    if (p !== provider) return
    if (status === 'connected' || status === 'disconnected') {
      log('status', status)
      emit({ event: 'status', status })
    }
  })
  p.on('synced', (state) => {
    if (p !== provider) return
    if (state) {
      log('synced')
      emit({ event: 'synced' })
      notifyWaiters()
    }
  })
  p.on('connection-close', (ev) => {
    if (p !== provider) return
    if (ev == null) {
      emit({ event: 'close', code: null, reason: 'local', local: true })
    } else {
      log('close', ev.code, ev.reason)
      emit({ event: 'close', code: ev.code, reason: String(ev.reason ?? ''), wasClean: !!ev.wasClean })
      // The provider schedules a reconnect right after this; setupWS checks shouldConnect.
      if (!opts.reconnect) p.shouldConnect = false
    }
  })
  p.on('connection-error', (ev) => {
    if (p !== provider) return
    const message = (ev && (ev.message || (ev.error && ev.error.message))) || 'websocket error'
    log('error', message)
    emit({ event: 'error', message })
  })
  return p
}

provider = makeProvider()
// set before connecting so the first awareness broadcast carries it
if (opts.name) awareness.setLocalState({ user: { name: opts.name } })
provider.connect()

// ---- waiters re-checked on every doc update / sync --------------------------------------------
const waiters = new Set()
function notifyWaiters () {
  for (const w of [...waiters]) w.check()
}
doc.on('update', () => notifyWaiters())

function waitFor (predicate, timeoutMs, onTimeout) {
  return new Promise((resolve, reject) => {
    const w = {
      check () {
        let v
        try { v = predicate() } catch (e) { finish(); reject(e); return }
        if (v !== undefined && v !== false) { finish(); resolve(v) }
      }
    }
    const timer = setTimeout(() => { finish(); reject(new Error(onTimeout())) }, timeoutMs)
    function finish () { clearTimeout(timer); waiters.delete(w) }
    waiters.add(w)
    w.check()
  })
}

// ---- typing ------------------------------------------------------------------------------------
const typing = { queue: [], timer: null, typed: 0, name: 't', interval: 50, atStart: false }
function typeTick () {
  const ch = typing.queue.shift()
  if (ch !== undefined) {
    typing.typed++
    const t = doc.getText(typing.name)
    doc.transact(() => t.insert(typing.atStart ? 0 : t.length, ch))
  }
  if (typing.queue.length > 0) {
    typing.timer = setTimeout(typeTick, typing.interval)
  } else {
    typing.timer = null
    notifyWaiters()
  }
}

// ---- commands ----------------------------------------------------------------------------------
const b64 = (u8) => Buffer.from(u8).toString('base64')
const textOf = (c) => doc.getText(c.name ?? 't')
const num = (v, d) => (v === undefined || v === null ? d : Number(v))

// Y.Map values as this doc saw them change, per map and key (watched from first use).
const mapSeen = new Map()
function watchedMap (name) {
  const m = doc.getMap(name)
  if (!mapSeen.has(name)) {
    const seen = new Map()
    mapSeen.set(name, seen)
    m.observe((event) => {
      for (const key of event.keysChanged) {
        if (!seen.has(key)) seen.set(key, [])
        seen.get(key).push(m.has(key) ? m.get(key) : null)
      }
      notifyWaiters()
    })
  }
  return m
}

const commands = {
  wait_synced: (c) => waitFor(() => provider.synced || undefined, num(c.timeout_ms, 10000),
    () => `timeout waiting for sync (connected=${provider.wsconnected}, url=${provider.url})`).then(() => ({})),

  insert: (c) => {
    if (typeof c.text !== 'string') throw new Error('insert needs text')
    const t = textOf(c)
    doc.transact(() => t.insert(num(c.index, t.length), c.text))
    return {}
  },

  delete: (c) => {
    const t = textOf(c)
    doc.transact(() => t.delete(num(c.index, 0), num(c.length, 0)))
    return {}
  },

  text: (c) => ({ text: textOf(c).toString() }),

  type: (c) => {
    if (typeof c.text !== 'string') throw new Error('type needs text')
    const idle = typing.queue.length === 0 && typing.timer === null
    if (idle) { typing.typed = 0; typing.name = c.name ?? 't'; typing.atStart = c.at === 'start' }
    typing.interval = num(c.interval_ms, 50)
    typing.queue.push(...Array.from(c.text))
    if (idle && typing.queue.length > 0) typing.timer = setTimeout(typeTick, 0)
    return {}
  },

  type_done: (c) => waitFor(
    () => (typing.queue.length === 0 && typing.timer === null) ? { typed: typing.typed } : undefined,
    num(c.timeout_ms, 30000),
    () => `timeout waiting for typing to finish (typed=${typing.typed}, remaining=${typing.queue.length})`),

  wait_text: (c) => {
    const t = textOf(c)
    if (c.equals === undefined && c.contains === undefined) throw new Error('wait_text needs equals or contains')
    return waitFor(() => {
      const s = t.toString()
      if (c.equals !== undefined && s !== c.equals) return undefined
      if (c.contains !== undefined && !s.includes(c.contains)) return undefined
      return { text: s }
    }, num(c.timeout_ms, 10000), () => `timeout in wait_text; last text: ${JSON.stringify(t.toString())}`)
  },

  state_vector: () => ({ sv: b64(Y.encodeStateVector(doc)) }),
  update: () => ({ update: b64(Y.encodeStateAsUpdate(doc)) }),
  apply_update: (c) => { Y.applyUpdate(doc, Buffer.from(String(c.update), 'base64'), 'apply_update'); return {} },

  set_url: (c) => {
    if (typeof c.url !== 'string') throw new Error('set_url needs url')
    const old = provider
    provider = null // silence the old provider's events
    old.destroy()
    serverUrl = c.url
    if ('token' in c) token = c.token
    provider = makeProvider()
    provider.connect()
    log('set_url', provider.url)
    return {}
  },

  disconnect: () => { provider.disconnect(); return {} },
  connect: () => { provider.connect(); return {} },

  awareness_set: (c) => { awareness.setLocalState(c.state === undefined ? null : c.state); return {} },
  awareness: () => ({ states: Object.fromEntries(awareness.getStates()), client_id: doc.clientID }),

  raw_send: (c) => {
    const ws = provider.ws
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new Error('websocket not open')
    ws.send(Buffer.from(String(c.hex ?? ''), 'hex'))
    return {}
  },

  status: () => ({ connected: provider.wsconnected, synced: provider.synced, url: provider.url, client_id: doc.clientID }),

  map_set: (c) => {
    if (typeof c.key !== 'string') throw new Error('map_set needs key')
    const m = watchedMap(c.map ?? 'm')
    doc.transact(() => m.set(c.key, c.value))
    return {}
  },
  map: (c) => ({ entries: watchedMap(c.map ?? 'm').toJSON() }),
  map_seen: (c) => {
    watchedMap(c.map ?? 'm')
    return { values: (mapSeen.get(c.map ?? 'm').get(c.key) ?? []).slice() }
  },
  wait_map: (c) => {
    const m = watchedMap(c.map ?? 'm')
    return waitFor(() => (m.get(c.key) === c.equals ? { value: m.get(c.key) } : undefined),
      num(c.timeout_ms, 10000), () => `timeout in wait_map; ${c.key} is ${JSON.stringify(m.get(c.key))}`)
  },

  exit: () => ({ __exit: true })
}

let exiting = false
function shutdown (code) {
  if (exiting) return
  exiting = true
  try { if (provider) provider.destroy() } catch (e) { log('destroy failed', e) }
  // stdout to a pipe is synchronous on Linux; the callback makes it safe elsewhere too
  process.stdout.write('', () => process.exit(code))
}

async function handle (line) {
  let c
  try {
    c = JSON.parse(line)
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new Error('not an object')
  } catch (e) {
    emit({ id: null, ok: false, error: `bad json: ${e.message}` })
    return
  }
  const id = c.id ?? null
  const fn = Object.prototype.hasOwnProperty.call(commands, c.cmd) ? commands[c.cmd] : null
  if (!fn) { emit({ id, ok: false, error: `unknown cmd ${JSON.stringify(c.cmd)}` }); return }
  try {
    let res = fn(c)
    if (res && typeof res.then === 'function') res = await res
    if (res && res.__exit) { emit({ id, ok: true }); shutdown(0); return }
    emit({ id, ok: true, ...res })
  } catch (e) {
    emit({ id, ok: false, error: String(e && e.message ? e.message : e) })
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
rl.on('line', (line) => {
  if (exiting || line.trim() === '') return
  handle(line)
})
rl.on('close', () => { log('stdin closed'); shutdown(0) })
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(130))
