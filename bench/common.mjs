// Shared helpers for the bench scripts (argument parsing, client creation, stats).
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import fs from 'node:fs'
import { execFileSync } from 'node:child_process'

/**
 * Minimal --flag value parser. `spec` maps flag name -> { type: 'string'|'number'|'bool'|'list', default }.
 * 'list' flags may be repeated (and also accept comma-separated values).
 */
export function parseArgs (argv, spec, usage) {
  const out = {}
  for (const [k, s] of Object.entries(spec)) out[k] = s.type === 'list' ? [] : s.default
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]
    if (a === '-h' || a === '--help') { process.stderr.write(usage); process.exit(0) }
    if (!a.startsWith('--')) fail(`unexpected argument ${a}`, usage)
    a = a.slice(2)
    let val = null
    const eq = a.indexOf('=')
    if (eq >= 0) { val = a.slice(eq + 1); a = a.slice(0, eq) }
    const key = a.replace(/-/g, '_')
    const s = spec[key]
    if (!s) fail(`unknown option --${a}`, usage)
    if (s.type === 'bool') { out[key] = val === null ? true : !['0', 'false', 'no'].includes(val); continue }
    if (val === null) {
      if (i + 1 >= argv.length) fail(`missing value for --${a}`, usage)
      val = argv[++i]
    }
    if (s.type === 'number') {
      const n = Number(val)
      if (!Number.isFinite(n)) fail(`--${a} needs a number`, usage)
      out[key] = n
    } else if (s.type === 'list') {
      out[key].push(...val.split(',').map((x) => x.trim()).filter(Boolean))
    } else out[key] = val
  }
  for (const [k, s] of Object.entries(spec)) {
    if (s.type === 'list' && out[k].length === 0 && s.default) out[k] = [...s.default]
  }
  return out
}

function fail (msg, usage) {
  process.stderr.write(`error: ${msg}\n\n${usage}`)
  process.exit(2)
}

/** Tokens: --token T, or --tokens-file (one per line, used round robin by global client index). */
export function loadTokens (opts) {
  if (opts.tokens_file) {
    const toks = fs.readFileSync(opts.tokens_file, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean)
    if (toks.length === 0) throw new Error(`no tokens in ${opts.tokens_file}`)
    return toks
  }
  return opts.token != null ? [opts.token] : []
}

/** ws client without permessage-deflate (keeps the generator cheap; matches the reference server). */
export function wsClass (deflate) {
  if (deflate) return WebSocket
  return class NoDeflateWS extends WebSocket {
    constructor (url, protocols) { super(url, protocols, { perMessageDeflate: false }) }
  }
}

// y-websocket 2.1.0's resyncInterval timer reads the global `WebSocket.OPEN`, which Node 20 lacks.
globalThis.WebSocket ??= WebSocket

/**
 * Creates one client: its own Y.Doc + a stock WebsocketProvider (BroadcastChannel disabled, so
 * clients in this process only talk through the server). Connects immediately.
 * Awareness local state is null unless `awarenessState` is given (null = no presence traffic).
 * Note: the stock client drops and re-opens its socket after 30 s without receiving any message;
 * with no awareness state and no doc traffic nothing arrives, so idle clients need `resyncMs`
 * (the provider's resyncInterval: re-sends sync step 1, the server answers with sync step 2).
 */
export function makeClient ({ url, docId, token, WS, awarenessState = null, maxBackoffMs = 2500, resyncMs = -1 }) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, docId, doc, {
    params: token != null ? { token } : {},
    WebSocketPolyfill: WS,
    disableBc: true,
    connect: false,
    maxBackoffTime: maxBackoffMs,
    resyncInterval: resyncMs
  })
  provider.awareness.setLocalState(awarenessState)
  const c = {
    doc,
    provider,
    url,
    docId,
    createdAt: performance.now(),
    everSynced: false,
    syncedAt: 0,
    opens: 0, // 'connected' status events; opens - 1 = reconnects
    closes: 0,
    errors: 0,
    closeCodes: {},
    lastError: null
  }
  provider.on('synced', (s) => { if (s && !c.everSynced) { c.everSynced = true; c.syncedAt = performance.now() } })
  provider.on('status', ({ status }) => { if (status === 'connected') c.opens++ })
  provider.on('connection-close', (ev) => {
    if (ev == null) return // local close
    c.closes++
    c.closeCodes[ev.code] = (c.closeCodes[ev.code] || 0) + 1
  })
  provider.on('connection-error', (ev) => {
    c.errors++
    c.lastError = (ev && (ev.message || (ev.error && ev.error.message))) || 'error'
  })
  provider.connect()
  return c
}

process.setMaxListeners(0) // one 'exit' listener per WebsocketProvider

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const nowMs = () => performance.timeOrigin + performance.now()

/** Open clients at `rate` per second (staggered), calling `make(i)` for i in [0, n). */
export async function staggered (n, rate, make) {
  const out = []
  const period = rate > 0 ? 1000 / rate : 0
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const due = t0 + i * period
    const wait = due - performance.now()
    if (wait > 1) await sleep(wait)
    out.push(make(i))
  }
  return out
}

/** Wait until pred() or timeout; returns whether pred became true. */
export async function waitUntil (pred, timeoutMs, stepMs = 50) {
  const end = performance.now() + timeoutMs
  while (performance.now() < end) {
    if (pred()) return true
    await sleep(stepMs)
  }
  return pred()
}

export function percentile (sorted, p) {
  if (sorted.length === 0) return null
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx]
}

export const round = (x, d = 2) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d)

/** Sum of RSS (KiB) of the given pids, via `ps -o rss=`. Returns null if a pid is gone. */
export function rssKiB (pids) {
  if (!pids || pids.length === 0) return null
  let total = 0
  for (const pid of pids) {
    try {
      const out = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()
      total += Number(out)
    } catch { return null }
  }
  return total
}

/**
 * Summed user+system CPU seconds of the given pids (Linux /proc/PID/stat; clock ticks = 100/s).
 * Returns null if a pid is gone or /proc is unavailable.
 */
export function cpuSeconds (pids) {
  if (!pids || pids.length === 0) return null
  let ticks = 0
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields from #3 (state) on
      ticks += Number(f[11]) + Number(f[12]) // #14 utime, #15 stime
    } catch { return null }
  }
  return ticks / 100
}

/** Generator self-measurement: CPU % of one core and event loop delay. */
export async function selfMonitor () {
  const { monitorEventLoopDelay } = await import('node:perf_hooks')
  const RES = 10 // ms; the histogram includes the sampling interval itself, subtracted below
  const h = monitorEventLoopDelay({ resolution: RES })
  const ex = (ns) => round(Math.max(0, ns / 1e6 - RES))
  h.enable()
  let cpu0 = process.cpuUsage()
  let t0 = performance.now()
  return {
    reset () { h.reset(); cpu0 = process.cpuUsage(); t0 = performance.now() },
    read () {
      const cpu = process.cpuUsage(cpu0)
      const wall = performance.now() - t0
      return {
        cpu_pct: round(((cpu.user + cpu.system) / 1000 / wall) * 100, 1),
        loop_delay_p50_ms: ex(h.percentile(50)),
        loop_delay_p99_ms: ex(h.percentile(99)),
        loop_delay_max_ms: ex(h.max)
      }
    }
  }
}
