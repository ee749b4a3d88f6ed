#!/usr/bin/env node
/**
 * yjs_load.mjs — fan-out latency load generator for a y-websocket-protocol server.
 *
 * D documents x K clients per document; every client inserts R characters per second into the
 * doc's Y.Text 't' (one transaction per insert). Each insert transaction also sets the sender's
 * entry in the Y.Map 'bench' to {s: seq, t: sendTimeMs} (t = performance.timeOrigin +
 * performance.now(), same clock for every client since they all live in this process). Every
 * OTHER client of the doc observes the map (transaction.local === false) and records
 * now - t as the fan-out latency of that insert.
 *
 * If the server (or the client's resync after a reconnect) merges several updates of one sender
 * into one message, the receiver sees only the newest seq; the skipped seqs are counted as
 * delivered ("coalesced") but not timed. loss = expected - delivered after the drain period,
 * where expected = (#measured inserts of each sender) x (K - 1). Finally all K texts of every
 * doc are compared (convergence).
 *
 * Phases: staggered connect (--connect-rate/s) -> all synced (clients that did not sync within
 * --connect-timeout are connect errors and are dropped) -> warmup (inserting, not measured) ->
 * measure (--duration) -> stop inserting -> drain (until every expected delivery arrived and
 * all texts are equal, at most --drain s) -> report.
 *
 * The URL of a client is `${url}/${docId}?token=${token}` (stock WebsocketProvider), e.g.
 *   reference server: --url ws://127.0.0.1:1234
 *   our server:       --url ws://127.0.0.1:8000/ws/docs --token T
 */
import { spawn } from 'node:child_process'
import {
  parseArgs, loadTokens, wsClass, makeClient, staggered, waitUntil, sleep, nowMs,
  percentile, round, selfMonitor, rssKiB, cpuSeconds
} from './common.mjs'

// A bigger young generation roughly halves the generator's GC pauses (loop-delay p99 ~115 -> ~45 ms
// at 1000 inserts/s + 9k deliveries/s): re-exec once with it unless it is already set.
if (!process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) && !process.env.YJS_LOAD_NO_REEXEC) {
  const child = spawn(process.execPath, ['--max-semi-space-size=64', ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, YJS_LOAD_NO_REEXEC: '1' } })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)))
  await new Promise(() => {}) // the child does the work; never continue in this process
}

const USAGE = `usage: node yjs_load.mjs [options]
  --url URL            server base URL; repeat (or comma list) to round-robin clients across
                       several servers (default ws://127.0.0.1:1234)
  --docs D             number of documents (default 1)
  --clients K          clients per document (default 20)
  --rate R             inserts per second per client (default 5)
  --duration S         measured seconds (default 30)
  --warmup S           seconds of inserting before measuring (default 5)
  --drain S            max seconds to wait for outstanding deliveries/convergence (default 10)
  --token T            token query parameter for every client
  --tokens-file F      one token per line, assigned round robin by global client index
  --doc-prefix P       doc ids are P0..P(D-1) (default bench-<time>-)
  --doc-ids a,b,c      explicit doc ids (overrides --docs / --doc-prefix)
  --connect-rate N     new connections per second (default 50)
  --connect-timeout S  seconds to wait for all clients to sync (default 30)
  --insert-at random|end  insert position (default random)
  --awareness          give every client an awareness state (adds presence traffic; default off)
  --deflate            offer permessage-deflate (default off)
  --pid PID            server pid(s) (repeatable): report their CPU % during the measured
                       window and RSS (ps -o rss) before connecting / at the end
  --json               print exactly one JSON result object on stdout (logs on stderr)
  --quiet              no progress lines
`

const opts = parseArgs(process.argv.slice(2), {
  url: { type: 'list', default: ['ws://127.0.0.1:1234'] },
  docs: { type: 'number', default: 1 },
  clients: { type: 'number', default: 20 },
  rate: { type: 'number', default: 5 },
  duration: { type: 'number', default: 30 },
  warmup: { type: 'number', default: 5 },
  drain: { type: 'number', default: 10 },
  token: { type: 'string', default: null },
  tokens_file: { type: 'string', default: null },
  doc_prefix: { type: 'string', default: `bench-${Date.now().toString(36)}-` },
  doc_ids: { type: 'list', default: null },
  connect_rate: { type: 'number', default: 50 },
  connect_timeout: { type: 'number', default: 30 },
  insert_at: { type: 'string', default: 'random' },
  awareness: { type: 'bool', default: false },
  deflate: { type: 'bool', default: false },
  pid: { type: 'list', default: null },
  json: { type: 'bool', default: false },
  quiet: { type: 'bool', default: false }
}, USAGE)

const log = (...a) => console.error('[yjs_load]', ...a)
const docIds = opts.doc_ids.length ? opts.doc_ids : Array.from({ length: opts.docs }, (_, i) => `${opts.doc_prefix}${i}`)
const D = docIds.length
const K = opts.clients
const R = opts.rate
const tokens = loadTokens(opts)
const WS = wsClass(opts.deflate)
const mon = await selfMonitor()
const pids = opts.pid.map(Number)
const serverRssBefore = rssKiB(pids)

// ---- latency store ------------------------------------------------------------------------------
let lat = new Float64Array(1 << 16)
let latN = 0
function recordLatency (ms) {
  if (latN === lat.length) { const n = new Float64Array(lat.length * 2); n.set(lat); lat = n }
  lat[latN++] = ms
}

const stats = { sent: 0, sentMeasured: 0, delivered: 0, timed: 0, coalesced: 0, lateOrDup: 0, intervalDelivered: 0 }

// ---- clients -------------------------------------------------------------------------------------
/** @type {Array<Array<any>>} docs[d][k] */
const docs = docIds.map(() => [])
log(`connecting ${D * K} clients (${D} docs x ${K}) to ${opts.url.join(', ')} at ${opts.connect_rate}/s`)
const tConnect0 = performance.now()
const all = await staggered(D * K, opts.connect_rate, (g) => {
  const d = Math.floor(g / K)
  const k = g % K
  const c = makeClient({
    url: opts.url[g % opts.url.length],
    docId: docIds[d],
    token: tokens.length ? tokens[g % tokens.length] : null,
    WS,
    awarenessState: opts.awareness ? { user: { name: `bench-${g}` } } : null
  })
  Object.assign(c, { g, d, k, key: String(k), seq: 0, mFrom: Infinity, mTo: Infinity, timer: null, lastSeen: new Float64Array(K), active: false })
  docs[d][k] = c
  return c
})
await waitUntil(() => all.every((c) => c.everSynced), opts.connect_timeout * 1000, 100)
const connectSeconds = (performance.now() - tConnect0) / 1000
const failed = all.filter((c) => !c.everSynced)
for (const c of failed) c.provider.destroy()
const live = all.filter((c) => c.everSynced)
const syncTimes = live.map((c) => c.syncedAt - c.createdAt).sort((a, b) => a - b)
log(`${live.length}/${all.length} clients synced in ${connectSeconds.toFixed(1)} s` +
  (failed.length ? `; ${failed.length} connect errors (e.g. ${failed[0].lastError || JSON.stringify(failed[0].closeCodes)})` : ''))
if (live.length === 0) {
  const err = { error: 'no client connected', connect: { attempted: all.length, synced: 0, connect_errors: failed.length, first_error: failed[0] ? (failed[0].lastError || JSON.stringify(failed[0].closeCodes)) : null } }
  if (opts.json) process.stdout.write(JSON.stringify(err) + '\n')
  else console.log(`no client connected: ${err.connect.first_error}`)
  process.exit(1)
}
const closesBefore = live.reduce((s, c) => s + c.closes, 0)

// ---- receive side: observe the 'bench' map ----------------------------------------------------
for (const c of live) {
  c.active = true
  c.text = c.doc.getText('t')
  c.meta = c.doc.getMap('bench')
  const peers = docs[c.d]
  c.meta.observe((ev) => {
    if (ev.transaction.local) return
    const tNow = nowMs()
    for (const key of ev.keysChanged) {
      const v = c.meta.get(key)
      if (!v) continue
      const sk = Number(key)
      const sender = peers[sk]
      const last = c.lastSeen[sk]
      if (v.s <= last) { stats.lateOrDup++; continue }
      c.lastSeen[sk] = v.s
      const lo = Math.max(last + 1, sender.mFrom)
      const hi = Math.min(v.s, sender.mTo)
      if (hi < lo) continue
      const n = hi - lo + 1
      stats.delivered += n
      stats.intervalDelivered += n
      if (v.s >= sender.mFrom && v.s <= sender.mTo) {
        recordLatency(tNow - v.t)
        stats.timed++
        stats.coalesced += n - 1
      } else {
        stats.coalesced += n
      }
    }
  })
}

// ---- send side ------------------------------------------------------------------------------------
const period = 1000 / R
let sending = false
function insertOnce (c) {
  const seq = ++c.seq
  const ch = String.fromCharCode(97 + (c.g % 26))
  const pos = opts.insert_at === 'end' ? c.text.length : Math.floor(Math.random() * (c.text.length + 1))
  const t = nowMs()
  c.doc.transact(() => {
    c.text.insert(pos, ch)
    c.meta.set(c.key, { s: seq, t })
  })
  stats.sent++
  if (seq >= c.mFrom && seq <= c.mTo) stats.sentMeasured++
}
function startSender (c) {
  let due = performance.now() + Math.random() * period // random phase
  const tick = () => {
    if (!sending) return
    insertOnce(c)
    const now = performance.now()
    due += period
    if (due < now - period) due = now // fell far behind (overloaded generator): don't burst
    c.timer = setTimeout(tick, Math.max(0, due - now))
  }
  c.timer = setTimeout(tick, Math.max(0, due - performance.now()))
}

let progress = null
if (!opts.quiet) {
  let lastSent = 0
  let lastT = performance.now()
  progress = setInterval(() => {
    const now = performance.now()
    const dt = (now - lastT) / 1000
    const m = mon.read()
    log(`sent ${((stats.sent - lastSent) / dt).toFixed(0)}/s, measured deliveries ${(stats.intervalDelivered / dt).toFixed(0)}/s, ` +
      `gen cpu ${m.cpu_pct}% loop p99 ${m.loop_delay_p99_ms} ms`)
    lastSent = stats.sent; stats.intervalDelivered = 0; lastT = now
  }, 5000)
}

sending = true
for (const c of live) startSender(c)
log(`warmup ${opts.warmup} s`)
await sleep(opts.warmup * 1000)

// measurement window
for (const c of live) c.mFrom = c.seq + 1
mon.reset()
const serverCpu0 = cpuSeconds(pids)
const tMeasure0 = performance.now()
log(`measuring ${opts.duration} s`)
await sleep(opts.duration * 1000)
sending = false
for (const c of live) { clearTimeout(c.timer); c.mTo = c.seq }
const measureSeconds = (performance.now() - tMeasure0) / 1000
const gen = mon.read()
const serverCpu1 = cpuSeconds(pids)
const serverRssEnd = rssKiB(pids)

// expected deliveries: each measured insert goes to every other live client of that doc
let expected = 0
let measuredInserts = 0
for (const c of live) {
  const n = Math.max(0, c.mTo - c.mFrom + 1)
  measuredInserts += n
  const receivers = docs[c.d].filter((o) => o !== c && o.active).length
  expected += n * receivers
}

// ---- drain + convergence --------------------------------------------------------------------------
const textsEqual = (d) => {
  const cs = docs[d].filter((c) => c.active)
  if (cs.length === 0) return true
  const s0 = cs[0].text.toString()
  return cs.every((c) => c.text.toString() === s0)
}
const tDrain0 = performance.now()
await waitUntil(() => stats.delivered >= expected, opts.drain * 1000, 50)
const deliveredAtDrain = stats.delivered
const remaining = Math.max(1000, opts.drain * 1000 - (performance.now() - tDrain0))
await waitUntil(() => docIds.every((_, d) => textsEqual(d)), remaining, 100)
const drainSeconds = (performance.now() - tDrain0) / 1000
const convergedDocs = docIds.filter((_, d) => textsEqual(d)).length
const textLens = docs.map((cs) => { const a = cs.find((c) => c.active); return a ? a.text.length : 0 })
if (progress) clearInterval(progress)

const closesDuring = live.reduce((s, c) => s + c.closes, 0) - closesBefore
const reconnects = live.reduce((s, c) => s + Math.max(0, c.opens - 1), 0)
const closeCodes = {}
for (const c of all) for (const [code, n] of Object.entries(c.closeCodes)) closeCodes[code] = (closeCodes[code] || 0) + n

const sorted = lat.subarray(0, latN).sort()
let sum = 0
for (let i = 0; i < latN; i++) sum += sorted[i]

const result = {
  config: {
    urls: opts.url, docs: D, clients_per_doc: K, total_clients: D * K, rate_per_client: R,
    duration_s: opts.duration, warmup_s: opts.warmup, insert_at: opts.insert_at,
    awareness: opts.awareness, deflate: opts.deflate, tokens: tokens.length
  },
  connect: {
    attempted: all.length,
    synced: live.length,
    connect_errors: failed.length,
    seconds: round(connectSeconds, 2),
    sync_time_p50_ms: round(percentile(syncTimes, 50)),
    sync_time_max_ms: round(syncTimes.length ? syncTimes[syncTimes.length - 1] : null),
    first_error: failed.length ? (failed[0].lastError || JSON.stringify(failed[0].closeCodes)) : null
  },
  inserts: {
    sent_total: stats.sent,
    measured: measuredInserts,
    target_per_s: live.length * R,
    achieved_per_s: round(measuredInserts / measureSeconds, 1)
  },
  latency_ms: {
    samples: latN,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(latN ? sorted[latN - 1] : null),
    mean: round(latN ? sum / latN : null)
  },
  deliveries: {
    expected,
    received: stats.delivered,
    received_at_drain: deliveredAtDrain,
    timed: stats.timed,
    coalesced: stats.coalesced,
    loss: expected - stats.delivered,
    loss_pct: round(expected ? ((expected - stats.delivered) / expected) * 100 : 0, 3),
    per_s: round(stats.delivered / measureSeconds, 1),
    expected_per_s: round(expected / measureSeconds, 1),
    late_or_dup_events: stats.lateOrDup
  },
  convergence: { docs: D, converged: convergedDocs, ok: convergedDocs === D, text_lengths: textLens },
  connection_closes_during_run: closesDuring,
  reconnects,
  close_codes: closeCodes,
  drain_s: round(drainSeconds, 2),
  generator: gen,
  server: pids.length
    ? {
        pids,
        cpu_pct: serverCpu0 != null && serverCpu1 != null ? round(((serverCpu1 - serverCpu0) / measureSeconds) * 100, 1) : null,
        rss_kib_before: serverRssBefore,
        rss_kib_end: serverRssEnd
      }
    : null
}

for (const c of all) { try { c.provider.destroy() } catch {} }

if (opts.json) {
  process.stdout.write(JSON.stringify(result) + '\n')
} else {
  const L = result.latency_ms
  const Dl = result.deliveries
  console.log(`docs=${D} clients/doc=${K} rate=${R}/s duration=${opts.duration}s urls=${opts.url.join(',')}`)
  console.log(`connect: ${live.length}/${all.length} synced in ${result.connect.seconds}s, errors=${failed.length}`)
  console.log(`inserts: ${measuredInserts} measured (${result.inserts.achieved_per_s}/s, target ${result.inserts.target_per_s}/s)`)
  console.log(`latency ms: p50=${L.p50} p90=${L.p90} p99=${L.p99} max=${L.max} mean=${L.mean} (n=${L.samples})`)
  console.log(`deliveries: expected=${Dl.expected} received=${Dl.received} loss=${Dl.loss} (${Dl.loss_pct}%) ` +
    `coalesced=${Dl.coalesced} rate=${Dl.per_s}/s`)
  console.log(`convergence: ${convergedDocs}/${D} docs equal; server closes during run=${closesDuring}, reconnects=${reconnects}`)
  if (result.server) console.log(`server: cpu=${result.server.cpu_pct}% rss KiB ${serverRssBefore} -> ${serverRssEnd}`)
  console.log(`generator: cpu=${gen.cpu_pct}% loop delay p99=${gen.loop_delay_p99_ms}ms max=${gen.loop_delay_max_ms}ms`)
}
process.exit(result.convergence.ok && result.connect.connect_errors === 0 ? 0 : 1)
