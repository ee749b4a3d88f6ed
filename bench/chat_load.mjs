#!/usr/bin/env node
/**
 * chat_load.mjs — chat fan-out load generator for `ws/chat/{room}` (docs/chat.md).
 *
 * R rooms x K members; every member has its own socket (plain `ws`, no deflate) and sends
 * M messages per second, Poisson (default) or jittered-uniform timing:
 *   {"type": "message.send", "client_id": "b<g>-<n>", "body": "<sender-ts-ms> <padding>"}
 * All sockets live in this one process, so one monotonic clock (performance.now()) times
 * everything:
 *   - fan-out latency: send -> each OTHER member's `message.new` with that client_id;
 *   - echo latency: send -> the sender's own `message.new`;
 *   - ack latency: send -> `message.ack`.
 * Only messages sent in the measured window (after --warmup) are timed and checked for loss.
 *
 * Correctness checks (every message, warm-up included, is tracked; the figures in `loss` are for
 * measured messages, `loss_all` for every message sent):
 *   - every acked message reaches each of the K members (sender included) exactly once:
 *     `missing` and `duplicates` count (message, member) pairs;
 *   - every socket sees its room's `seq` gap-free and in order (1, 2, 3 ...): `seq_gaps`,
 *     `seq_regressions`; the `seq` of a message.new equals the seq of its ack;
 *   - acks of one sender come in send order (`ack_order_violations`);
 *   - messages never acked (error frames, e.g. rate_limited, counted by code) are reported.
 *
 * Phases: staggered connect (--connect-rate/s) -> all open -> --settle s (the server joins the
 * room's group after accepting) -> warmup -> measure (--duration) -> stop sending -> drain (until
 * every sent message is acked or refused and every acked one is delivered everywhere, at most
 * --drain s) -> report.
 *
 * Input (--plan FILE, written by bench/run_chat.py):
 *   {"rooms": [{"id": 3, "members": [{"username": "u1", "token": "..."}, ...]}, ...], "listeners": L}
 * The last L members of every room (default 0) only listen: their latency is reported apart
 * (`listener_latency_ms`). A socket handles its frames one at a time, so a sender's own pending
 * message.send can hold back what it receives; listeners never send, so the difference between
 * the two shows that head-of-line blocking.
 * Socket g (g = room_index * K + member_index) connects to --url[g % urls] + `/{room}?token=`.
 */
import WebSocket from 'ws'
import fs from 'node:fs'
import {
  parseArgs, staggered, waitUntil, sleep, percentile, round, selfMonitor, cpuSeconds, rssKiB
} from './common.mjs'

const USAGE = `usage: node chat_load.mjs --plan FILE --url ws://127.0.0.1:8000/ws/chat [options]
  --plan FILE          rooms, members and tokens (JSON, see the header of this file)
  --url URL            chat socket base URL (…/ws/chat); repeat to round-robin sockets over workers
  --rate M             messages per second per member (default 1)
  --timing poisson|uniform   inter-send times: exponential, or period x U(1-j, 1+j) (default poisson)
  --jitter J           for --timing uniform (default 0.5)
  --body-bytes B       body length incl. the timestamp (default 100)
  --duration S         measured seconds (default 60)
  --warmup S           seconds of sending before measuring (default 10)
  --settle S           seconds between "all sockets open" and the first message (default 2)
  --drain S            max seconds to wait for outstanding acks/deliveries (default 15)
  --connect-rate N     new sockets per second (default 100)
  --connect-timeout S  (default 30)
  --pid PID            worker pid(s) (repeatable): their CPU % over the measured window
  --json               one JSON object on stdout (progress on stderr)
  --quiet              no progress lines
`

const opts = parseArgs(process.argv.slice(2), {
  plan: { type: 'string', default: null },
  url: { type: 'list', default: null },
  rate: { type: 'number', default: 1 },
  timing: { type: 'string', default: 'poisson' },
  jitter: { type: 'number', default: 0.5 },
  body_bytes: { type: 'number', default: 100 },
  duration: { type: 'number', default: 60 },
  warmup: { type: 'number', default: 10 },
  settle: { type: 'number', default: 2 },
  drain: { type: 'number', default: 15 },
  connect_rate: { type: 'number', default: 100 },
  connect_timeout: { type: 'number', default: 30 },
  pid: { type: 'list', default: null },
  json: { type: 'bool', default: false },
  quiet: { type: 'bool', default: false }
}, USAGE)
if (!opts.plan || opts.url.length === 0) { process.stderr.write(USAGE); process.exit(2) }
if (!['poisson', 'uniform'].includes(opts.timing)) { process.stderr.write(USAGE); process.exit(2) }

const log = (...a) => { if (!opts.quiet) console.error('[chat_load]', ...a) }
const plan = JSON.parse(fs.readFileSync(opts.plan, 'utf8'))
const rooms = plan.rooms
const R = rooms.length
const K = rooms[0].members.length
const L = plan.listeners || 0 // members k >= K - L never send
if (rooms.some((r) => r.members.length !== K)) throw new Error('every room needs the same number of members')
const pids = (opts.pid || []).map(Number)
const mon = await selfMonitor()

// ---- per-message records ------------------------------------------------------------------------
// msgs: client_id -> {sender, t (send, ms), measured, ackT, ackSeq, err, got: Uint8Array(K), seq}
const msgs = new Map()
class Samples {
  constructor () { this.a = new Float64Array(1 << 15); this.n = 0 }
  push (x) {
    if (this.n === this.a.length) { const b = new Float64Array(this.a.length * 2); b.set(this.a); this.a = b }
    this.a[this.n++] = x
  }

  summary () {
    const s = this.a.subarray(0, this.n).sort()
    let sum = 0
    for (let i = 0; i < this.n; i++) sum += s[i]
    return {
      samples: this.n,
      p50: round(percentile(s, 50)),
      p90: round(percentile(s, 90)),
      p95: round(percentile(s, 95)),
      p99: round(percentile(s, 99)),
      p999: round(percentile(s, 99.9)),
      max: round(this.n ? s[this.n - 1] : null),
      mean: round(this.n ? sum / this.n : null)
    }
  }
}
const fanout = new Samples()
const echo = new Samples()
const listener = new Samples()
const timeline = [] // fan-out latency by second of the measured window (stalls show up here)
let tMeasure0 = Infinity
const ack = new Samples()
const stats = {
  sent: 0,
  sentMeasured: 0,
  acked: 0,
  errors: {},
  unknownClientId: 0,
  ackWithoutSend: 0,
  ackSeqMismatch: 0,
  ackOrderViolations: 0,
  newSeqMismatch: 0,
  authorMismatch: 0,
  seqGaps: 0,
  seqRegressions: 0,
  framesByType: {},
  intervalDeliveries: 0,
  windowDeliveries: 0, // to members other than the sender, received during the measured window
  windowAcks: 0, // acks received during the measured window: messages the server stored
  badJson: 0
}
let measuring = false
let sending = false

// ---- sockets ------------------------------------------------------------------------------------
const padding = 'x'.repeat(Math.max(0, opts.body_bytes))
function makeSocket (g) {
  const r = Math.floor(g / K)
  const k = g % K
  const room = rooms[r]
  const member = room.members[k]
  const url = `${opts.url[g % opts.url.length]}/${room.id}?token=${encodeURIComponent(member.token)}`
  const c = {
    g, r, k, room, username: member.username, url, n: 0, lastSeq: 0, lastAckSeq: 0, listener: k >= K - L,
    open: false, opened: false, closes: 0, closeCodes: {}, errors: 0, lastError: null, timer: null
  }
  const ws = new WebSocket(url, { perMessageDeflate: false })
  c.ws = ws
  ws.on('open', () => { c.open = true; c.opened = true })
  ws.on('error', (e) => { c.errors++; c.lastError = e.message })
  ws.on('close', (code) => {
    c.open = false
    c.closes++
    c.closeCodes[code] = (c.closeCodes[code] || 0) + 1
  })
  ws.on('message', (data) => onFrame(c, data))
  return c
}

function onFrame (c, data) {
  const tNow = performance.now()
  let f
  try { f = JSON.parse(data.toString()) } catch { stats.badJson++; return }
  stats.framesByType[f.type] = (stats.framesByType[f.type] || 0) + 1
  if (f.type === 'message.new') {
    const m = f.message
    // seq order per socket: this room's log is only bench messages and every socket was open
    // (and settled) before the first one, so each socket must see 1, 2, 3 ...
    if (m.seq !== c.lastSeq + 1) {
      if (m.seq > c.lastSeq) stats.seqGaps++
      else stats.seqRegressions++
    }
    if (m.seq > c.lastSeq) c.lastSeq = m.seq
    const rec = msgs.get(m.client_id)
    if (!rec || rec.sender.r !== c.r) { stats.unknownClientId++; return }
    if (m.author !== rec.sender.username) stats.authorMismatch++
    if (rec.seq === 0) rec.seq = m.seq
    else if (rec.seq !== m.seq) stats.newSeqMismatch++
    rec.got[c.k]++
    if (measuring && c !== rec.sender) stats.windowDeliveries++
    if (rec.got[c.k] > 1 || !rec.measured) return
    stats.intervalDeliveries++
    if (c === rec.sender) echo.push(tNow - rec.t)
    else if (c.listener) listener.push(tNow - rec.t)
    else {
      fanout.push(tNow - rec.t)
      const sec = Math.floor((rec.t - tMeasure0) / 1000) // by the second the message was sent in
      if (sec >= 0) (timeline[sec] ??= new Samples()).push(tNow - rec.t)
    }
  } else if (f.type === 'message.ack') {
    const rec = msgs.get(f.client_id)
    if (!rec || rec.sender !== c) { stats.ackWithoutSend++; return }
    if (rec.ackT) return // acks of retries; we never retry
    rec.ackT = tNow
    rec.ackSeq = f.seq
    stats.acked++
    if (measuring) stats.windowAcks++
    if (rec.seq !== 0 && rec.seq !== f.seq) stats.ackSeqMismatch++
    else rec.seq = f.seq
    if (f.seq <= c.lastAckSeq) stats.ackOrderViolations++
    c.lastAckSeq = Math.max(c.lastAckSeq, f.seq)
    if (rec.measured) ack.push(tNow - rec.t)
  } else if (f.type === 'error') {
    stats.errors[f.code] = (stats.errors[f.code] || 0) + 1
    const rec = f.client_id != null ? msgs.get(f.client_id) : null
    if (rec) rec.err = f.code
  }
}

function sendOne (c) {
  const clientId = `b${c.g}-${++c.n}`
  const t = performance.now()
  const body = `${(performance.timeOrigin + t).toFixed(3)} ${padding}`.slice(0, Math.max(20, opts.body_bytes))
  msgs.set(clientId, { sender: c, t, measured: measuring, ackT: 0, ackSeq: 0, err: null, seq: 0, got: new Uint8Array(K) })
  c.ws.send(JSON.stringify({ type: 'message.send', client_id: clientId, body }))
  stats.sent++
  if (measuring) stats.sentMeasured++
}

const period = 1000 / opts.rate
const nextGap = opts.timing === 'poisson'
  ? () => -Math.log(1 - Math.random()) * period
  : () => period * (1 + opts.jitter * (2 * Math.random() - 1))
function startSender (c) {
  let due = performance.now() + Math.random() * period // random phase
  const tick = () => {
    if (!sending) return
    if (c.open) sendOne(c)
    const now = performance.now()
    due += nextGap()
    if (due < now - 1000) due = now // generator fell far behind: do not burst
    c.timer = setTimeout(tick, Math.max(0, due - now))
  }
  c.timer = setTimeout(tick, Math.max(0, due - performance.now()))
}

// ---- run ---------------------------------------------------------------------------------------
log(`connecting ${R * K} sockets (${R} rooms x ${K}) to ${opts.url.join(', ')}`)
const tConnect0 = performance.now()
const all = await staggered(R * K, opts.connect_rate, makeSocket)
await waitUntil(() => all.every((c) => c.opened || c.closes > 0), opts.connect_timeout * 1000, 50)
const connectSeconds = (performance.now() - tConnect0) / 1000
const failed = all.filter((c) => !c.open)
if (failed.length) {
  const first = failed[0]
  const err = { error: 'sockets failed to connect', failed: failed.length, first_error: first.lastError || JSON.stringify(first.closeCodes) }
  process.stdout.write(JSON.stringify(err) + '\n')
  for (const c of all) c.ws.terminate()
  process.exit(1)
}
log(`${all.length} sockets open in ${connectSeconds.toFixed(1)} s; settling ${opts.settle} s`)
await sleep(opts.settle * 1000)
const closesBefore = all.reduce((s, c) => s + c.closes, 0)

let progress = null
if (!opts.quiet) {
  let lastSent = 0
  let lastT = performance.now()
  progress = setInterval(() => {
    const now = performance.now()
    const dt = (now - lastT) / 1000
    const m = mon.read()
    log(`sent ${((stats.sent - lastSent) / dt).toFixed(0)}/s, measured deliveries ${(stats.intervalDeliveries / dt).toFixed(0)}/s, ` +
      `acked ${stats.acked}/${stats.sent}, gen cpu ${m.cpu_pct}% loop p99 ${m.loop_delay_p99_ms} ms`)
    lastSent = stats.sent; stats.intervalDeliveries = 0; lastT = now
  }, 5000)
}

const epochNow = () => round(performance.timeOrigin + performance.now(), 1)
sending = true
for (const c of all) if (!c.listener) startSender(c)
log(`warmup ${opts.warmup} s`)
await sleep(opts.warmup * 1000)

measuring = true
mon.reset()
const serverCpu0 = cpuSeconds(pids)
tMeasure0 = performance.now()
const windowStart = epochNow()
log(`measuring ${opts.duration} s`)
await sleep(opts.duration * 1000)
measuring = false
sending = false
for (const c of all) clearTimeout(c.timer)
const measureSeconds = (performance.now() - tMeasure0) / 1000
const windowEnd = epochNow()
const gen = mon.read()
const serverCpu1 = cpuSeconds(pids)
const serverRss = rssKiB(pids)

// ---- drain ---------------------------------------------------------------------------------------
const settled = () => {
  for (const rec of msgs.values()) {
    if (rec.err) continue
    if (!rec.ackT) return false
    for (let k = 0; k < K; k++) if (rec.got[k] === 0) return false
  }
  return true
}
const tDrain0 = performance.now()
await waitUntil(settled, opts.drain * 1000, 100)
await sleep(500) // late duplicates, if any, arrive now
const drainSeconds = (performance.now() - tDrain0) / 1000
if (progress) clearInterval(progress)

function lossOf (filter) {
  const out = { messages: 0, acked: 0, refused: 0, unacked: 0, expected_deliveries: 0, delivered: 0, missing: 0, duplicates: 0, delivered_unacked: 0, messages_incomplete: 0 }
  for (const rec of msgs.values()) {
    if (!filter(rec)) continue
    out.messages++
    if (rec.err) out.refused++
    if (!rec.ackT) {
      if (!rec.err) out.unacked++
      for (let k = 0; k < K; k++) if (rec.got[k]) out.delivered_unacked++
      continue
    }
    out.acked++
    out.expected_deliveries += K
    let incomplete = false
    for (let k = 0; k < K; k++) {
      const n = rec.got[k]
      if (n === 0) { out.missing++; incomplete = true } else out.delivered++
      if (n > 1) out.duplicates += n - 1
    }
    if (incomplete) out.messages_incomplete++
  }
  return out
}
const loss = lossOf((rec) => rec.measured)
const lossAll = lossOf(() => true)

const closesDuring = all.reduce((s, c) => s + c.closes, 0) - closesBefore
const closeCodes = {}
for (const c of all) for (const [code, n] of Object.entries(c.closeCodes)) closeCodes[code] = (closeCodes[code] || 0) + n
for (const c of all) c.ws.close(1000)

const result = {
  config: {
    urls: opts.url, rooms: R, members_per_room: K - L, listeners_per_room: L, sockets: R * K, rate_per_member: opts.rate,
    timing: opts.timing, jitter: opts.timing === 'uniform' ? opts.jitter : null, body_bytes: opts.body_bytes,
    duration_s: opts.duration, warmup_s: opts.warmup, settle_s: opts.settle
  },
  connect: { sockets: all.length, seconds: round(connectSeconds, 2) },
  window: { start_epoch_ms: windowStart, end_epoch_ms: windowEnd, seconds: round(measureSeconds, 2) },
  messages: {
    sent_total: stats.sent,
    measured: stats.sentMeasured,
    target_per_s: R * (K - L) * opts.rate,
    achieved_per_s: round(stats.sentMeasured / measureSeconds, 1),
    acked_per_s: round(stats.windowAcks / measureSeconds, 1) // stored (acked) during the window
  },
  latency_ms: fanout.summary(), // send -> another member's message.new
  echo_latency_ms: echo.summary(), // send -> the sender's own message.new
  ack_latency_ms: ack.summary(), // send -> message.ack
  listener_latency_ms: listener.summary(), // send -> a listen-only member's message.new
  // per second of the window: [deliveries, p50, p99, max] of the fan-out latency (ms)
  latency_timeline: Array.from(timeline, (b) => {
    if (!b) return null
    const x = b.summary()
    return [x.samples, x.p50, x.p99, x.max]
  }),
  deliveries: {
    per_s: round(stats.windowDeliveries / measureSeconds, 1), // received by non-senders during the window
    expected_per_s: round((R * (K - L) * opts.rate * (K - 1)), 1),
    measured_messages_delivered: fanout.n + echo.n + listener.n // by the end of the drain
  },
  loss, // measured messages
  loss_all: lossAll, // every message, warm-up included
  order: {
    seq_gaps: stats.seqGaps,
    seq_regressions: stats.seqRegressions,
    ack_order_violations: stats.ackOrderViolations,
    ack_seq_mismatch: stats.ackSeqMismatch,
    new_seq_mismatch: stats.newSeqMismatch,
    author_mismatch: stats.authorMismatch,
    unknown_client_id: stats.unknownClientId,
    ack_without_send: stats.ackWithoutSend
  },
  error_frames: stats.errors,
  frames_by_type: stats.framesByType,
  connection_closes_during_run: closesDuring,
  close_codes: closeCodes,
  drain_s: round(drainSeconds, 2),
  generator: gen,
  server: pids.length
    ? {
        pids,
        cpu_pct: serverCpu0 != null && serverCpu1 != null ? round(((serverCpu1 - serverCpu0) / measureSeconds) * 100, 1) : null,
        rss_kib_end: serverRss
      }
    : null
}
const ok = loss.missing === 0 && loss.duplicates === 0 && loss.unacked === 0 && lossAll.missing === 0 &&
  lossAll.duplicates === 0 && stats.seqGaps === 0 && stats.seqRegressions === 0 && closesDuring === 0
result.ok = ok

if (opts.json) {
  process.stdout.write(JSON.stringify(result) + '\n')
} else {
  const L = result.latency_ms
  console.log(`rooms=${R} members=${K} rate=${opts.rate}/s (${opts.timing}) duration=${opts.duration}s urls=${opts.url.join(',')}`)
  console.log(`messages: ${stats.sentMeasured} measured (${result.messages.achieved_per_s}/s, target ${result.messages.target_per_s}/s)`)
  console.log(`fan-out ms: p50=${L.p50} p95=${L.p95} p99=${L.p99} max=${L.max} (n=${L.samples}); ` +
    `ack p50=${result.ack_latency_ms.p50} p99=${result.ack_latency_ms.p99}`)
  console.log(`loss: missing=${loss.missing} dup=${loss.duplicates} unacked=${loss.unacked} refused=${loss.refused}; ` +
    `seq gaps=${stats.seqGaps} regressions=${stats.seqRegressions}; ${result.deliveries.per_s} deliveries/s`)
  if (result.server) console.log(`server cpu=${result.server.cpu_pct}%`)
  console.log(`generator: cpu=${gen.cpu_pct}% loop delay p99=${gen.loop_delay_p99_ms}ms max=${gen.loop_delay_max_ms}ms`)
}
// let the close frames go out
setTimeout(() => process.exit(ok ? 0 : 1), 200)
