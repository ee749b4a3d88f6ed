#!/usr/bin/env node
/**
 * idle_conns.mjs — open N idle, connected, synced clients on one document and hold them for T s,
 * so the server's memory per idle connection can be measured from outside.
 *
 * With --pid (repeatable; e.g. every server process) it samples the summed RSS of those pids
 * with `ps -o rss=` before connecting, after all clients synced (+ --settle s) and after the hold,
 * and reports (after - before) / N per connection. Without --pid, measure yourself: the script
 * prints a line "READY <n> synced" on stderr when all clients are synced and "HOLD-END" when the
 * hold time is over.
 *
 * By default clients have NO awareness state, so no presence traffic. The stock client closes and
 * re-opens a socket on which nothing arrived for 30 s, so in this mode every client re-sends sync
 * step 1 every --resync s (provider option resyncInterval; the server answers with a small sync
 * step 2): one tiny round trip per client per interval, no fan-out.
 * --awareness gives each client a {user:{name}} state instead (what a browser tab has); the stock
 * client renews it every 15 s and the server fans each renewal out to all N clients of the doc
 * (N^2 / 15 messages/s: 500 clients -> ~16.7k messages/s), so the room is not really idle.
 */
import { parseArgs, loadTokens, wsClass, makeClient, staggered, waitUntil, sleep, round, rssKiB, cpuSeconds } from './common.mjs'

const USAGE = `usage: node idle_conns.mjs [options]
  --url URL            server base URL; repeat for round robin (default ws://127.0.0.1:1234)
  --doc ID             document id (default idle-<time>)
  --clients N          number of connections (default 500)
  --hold S             seconds to hold them after all synced (default 30)
  --settle S           seconds to wait after sync before the "after" RSS sample (default 3)
  --connect-rate N     new connections per second (default 100)
  --connect-timeout S  seconds to wait for all to sync (default 60)
  --token T | --tokens-file F
  --pid PID            server pid(s) whose RSS (ps -o rss) is sampled; repeatable
  --seed-text N        before connecting the idle clients, one client writes N chars into the doc
                       (default 0; makes each sync carry a non-empty doc)
  --awareness          give every client an awareness state (default off)
  --resync S           without --awareness: re-send sync step 1 every S s as keepalive (default 10)
  --json               print one JSON result object on stdout
`

const opts = parseArgs(process.argv.slice(2), {
  url: { type: 'list', default: ['ws://127.0.0.1:1234'] },
  doc: { type: 'string', default: `idle-${Date.now().toString(36)}` },
  clients: { type: 'number', default: 500 },
  hold: { type: 'number', default: 30 },
  settle: { type: 'number', default: 3 },
  connect_rate: { type: 'number', default: 100 },
  connect_timeout: { type: 'number', default: 60 },
  token: { type: 'string', default: null },
  tokens_file: { type: 'string', default: null },
  pid: { type: 'list', default: null },
  seed_text: { type: 'number', default: 0 },
  awareness: { type: 'bool', default: false },
  resync: { type: 'number', default: 10 },
  deflate: { type: 'bool', default: false },
  json: { type: 'bool', default: false }
}, USAGE)

const log = (...a) => console.error('[idle_conns]', ...a)
const tokens = loadTokens(opts)
const WS = wsClass(opts.deflate)
const N = opts.clients
const pids = opts.pid.map(Number)

let seeder = null
if (opts.seed_text > 0) {
  seeder = makeClient({ url: opts.url[0], docId: opts.doc, token: tokens[0] ?? null, WS })
  if (!await waitUntil(() => seeder.everSynced, 10000)) throw new Error('seeder did not sync')
  const t = seeder.doc.getText('t')
  for (let i = 0; i < opts.seed_text; i += 100) seeder.doc.transact(() => t.insert(t.length, 'x'.repeat(Math.min(100, opts.seed_text - i))))
  await sleep(500)
  seeder.provider.destroy()
  await sleep(500)
}

const rssBefore = rssKiB(pids)
log(`rss before: ${rssBefore} KiB; connecting ${N} clients at ${opts.connect_rate}/s`)
const t0 = performance.now()
const clients = await staggered(N, opts.connect_rate, (i) => makeClient({
  url: opts.url[i % opts.url.length],
  docId: opts.doc,
  token: tokens.length ? tokens[i % tokens.length] : null,
  WS,
  awarenessState: opts.awareness ? { user: { name: `idle-${i}` } } : null,
  resyncMs: opts.awareness ? -1 : opts.resync * 1000
}))
await waitUntil(() => clients.every((c) => c.everSynced), opts.connect_timeout * 1000, 100)
const connectSeconds = (performance.now() - t0) / 1000
const synced = clients.filter((c) => c.everSynced).length
log(`READY ${synced} synced (of ${N}) in ${connectSeconds.toFixed(1)} s`)
await sleep(opts.settle * 1000)
const rssAfter = rssKiB(pids)
log(`rss after connect+settle: ${rssAfter} KiB`)
const restHold = Math.max(0, opts.hold - opts.settle)
const cpu0 = cpuSeconds(pids)
const tHold = performance.now()
await sleep(restHold * 1000)
const cpu1 = cpuSeconds(pids)
const holdCpuPct = cpu0 != null && cpu1 != null && restHold > 0 ? round(((cpu1 - cpu0) / ((performance.now() - tHold) / 1000)) * 100, 1) : null
const connectedAtEnd = clients.filter((c) => c.provider.wsconnected).length
const rssEnd = rssKiB(pids)
log(`HOLD-END ${connectedAtEnd} connected; rss ${rssEnd} KiB`)

const closes = clients.reduce((s, c) => s + c.closes, 0)
const reconnects = clients.reduce((s, c) => s + c.opens - 1, 0)
const closeCodes = {}
for (const c of clients) for (const [code, n] of Object.entries(c.closeCodes)) closeCodes[code] = (closeCodes[code] || 0) + n
const failed = clients.filter((c) => !c.everSynced)
for (const c of clients) { try { c.provider.destroy() } catch {} }

const perConn = (a, b) => (a != null && b != null && synced ? round((b - a) / synced, 1) : null)
const result = {
  config: { urls: opts.url, doc: opts.doc, clients: N, hold_s: opts.hold, awareness: opts.awareness, resync_s: opts.awareness ? null : opts.resync, seed_text: opts.seed_text, pids },
  connect: { synced, connect_errors: failed.length, seconds: round(connectSeconds, 2), first_error: failed.length ? (failed[0].lastError || JSON.stringify(failed[0].closeCodes)) : null },
  connected_at_end: connectedAtEnd,
  server_closes: closes,
  reconnects,
  close_codes: closeCodes,
  server_rss_kib: { before: rssBefore, after_connect: rssAfter, end_of_hold: rssEnd },
  server_cpu_pct_while_idle: holdCpuPct,
  server_rss_per_conn_kib: { after_connect: perConn(rssBefore, rssAfter), end_of_hold: perConn(rssBefore, rssEnd) }
}
if (opts.json) {
  process.stdout.write(JSON.stringify(result) + '\n')
} else {
  console.log(`${synced}/${N} synced in ${result.connect.seconds}s, ${connectedAtEnd} connected at end of ${opts.hold}s hold, server closes=${closes}, reconnects=${reconnects}`)
  if (pids.length) {
    console.log(`server RSS KiB: before=${rssBefore} after_connect=${rssAfter} end=${rssEnd}; ` +
      `per connection: ${result.server_rss_per_conn_kib.after_connect} KiB (after connect), ${result.server_rss_per_conn_kib.end_of_hold} KiB (end); ` +
      `server cpu while holding ${holdCpuPct}%`)
  }
}
process.exit(failed.length ? 1 : 0)
