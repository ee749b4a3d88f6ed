#!/usr/bin/env node
/**
 * Manual self-test for yclient.mjs. Needs a running y-websocket-protocol server; it is NOT run by CI.
 *
 *   # simplest: without --url it starts two reference y-websocket servers itself on free
 *   # 127.0.0.1 ports (from this directory, after `npm ci`):
 *   npm run selftest            # == node selftest.mjs
 *
 *   # or against servers you started:
 *   HOST=127.0.0.1 PORT=1234 node node_modules/y-websocket/bin/server.cjs &
 *   HOST=127.0.0.1 PORT=1235 node node_modules/y-websocket/bin/server.cjs &   # optional 2nd server
 *   node selftest.mjs --url ws://127.0.0.1:1234 [--url2 ws://127.0.0.1:1235]
 *
 *   # our server:
 *   node selftest.mjs --url ws://127.0.0.1:8000/ws/docs --token TOKEN [--url2 ws://127.0.0.1:8001/ws/docs]
 *
 * Checks: two clients converge (insert / type / delete), awareness propagates, disconnect/connect
 * resyncs, `set_url` moves a client to another server keeping its doc (a fresh client on the second
 * server then sees the text), protocol error replies, every stdout line is JSON, exit on `exit`
 * and on stdin close. Exits 0 and prints "N passed, 0 failed" on success.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import readline from 'node:readline'
import assert from 'node:assert/strict'
import net from 'node:net'

const here = path.dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const arg = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d }
const refServers = []
async function startRefServer () {
  const port = await new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)) })
    srv.on('error', reject)
  })
  const proc = spawn(process.execPath, [path.join(here, 'node_modules/y-websocket/bin/server.cjs')],
    { env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] })
  refServers.push(proc)
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => { if (String(d).includes('running at')) resolve() })
    proc.on('exit', (code) => reject(new Error(`reference server exited with ${code}`)))
  })
  return `ws://127.0.0.1:${port}`
}
let URL1 = arg('--url', null)
let URL2 = arg('--url2', null)
if (URL1 === null) {
  URL1 = await startRefServer()
  URL2 = await startRefServer()
  console.log(`started reference servers ${URL1} ${URL2}`)
}
URL2 = URL2 ?? URL1
const TOKEN = arg('--token', null)
const DOC = arg('--doc', `selftest-${process.pid}-${Date.now()}`)

class Client {
  constructor (name, url = URL1, extra = []) {
    this.name = name
    this.nextId = 1
    this.pending = new Map()
    this.events = []
    this.eventWaiters = []
    const a = [path.join(here, 'yclient.mjs'), '--url', url, '--doc', DOC, '--name', name, ...extra]
    if (TOKEN) a.push('--token', TOKEN)
    this.proc = spawn(process.execPath, a, { stdio: ['pipe', 'pipe', 'pipe'] })
    this.stderr = ''
    this.proc.stderr.on('data', (d) => { this.stderr += d })
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)))
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
      let m
      try { m = JSON.parse(line) } catch { throw new Error(`${name}: non-JSON stdout line: ${line}`) }
      if (m.event) {
        this.events.push(m)
        for (const w of [...this.eventWaiters]) w(m)
      } else {
        const p = this.pending.get(m.id)
        if (!p) throw new Error(`${name}: reply for unknown id ${JSON.stringify(m)}`)
        this.pending.delete(m.id)
        p(m)
      }
    })
  }

  raw (line) { this.proc.stdin.write(line + '\n') }

  send (cmd, fields = {}) {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      this.proc.stdin.write(JSON.stringify({ id, cmd, ...fields }) + '\n')
    })
  }

  async ok (cmd, fields) {
    const r = await this.send(cmd, fields)
    if (!r.ok) throw new Error(`${this.name} ${cmd} failed: ${r.error}`)
    return r
  }

  waitEvent (pred, timeoutMs = 5000) {
    const found = this.events.find(pred)
    if (found) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: event timeout`)), timeoutMs)
      const w = (m) => {
        if (pred(m)) { clearTimeout(t); this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1); resolve(m) }
      }
      this.eventWaiters.push(w)
    })
  }
}

let passed = 0
let failed = 0
async function step (name, fn) {
  try {
    await fn()
    passed++
    console.log(`ok   ${name}`)
  } catch (e) {
    failed++
    console.log(`FAIL ${name}: ${e.stack || e}`)
  }
}

const A = new Client('alice')
const B = new Client('bob')
const clients = [A, B]

await step('both sync', async () => {
  await Promise.all([A.ok('wait_synced', { timeout_ms: 5000 }), B.ok('wait_synced', { timeout_ms: 5000 })])
  await A.waitEvent((e) => e.event === 'status' && e.status === 'connected')
  await A.waitEvent((e) => e.event === 'synced')
})

await step('insert converges', async () => {
  await A.ok('insert', { index: 0, text: 'hello' })
  assert.equal((await A.ok('text')).text, 'hello')
  assert.equal((await B.ok('wait_text', { equals: 'hello', timeout_ms: 3000 })).text, 'hello')
})

await step('type + type_done + wait_text contains', async () => {
  await B.ok('type', { text: ' world', interval_ms: 20 })
  const w = A.ok('wait_text', { equals: 'hello world', timeout_ms: 5000 })
  assert.equal((await B.ok('type_done', { timeout_ms: 5000 })).typed, 6)
  await w
  await A.ok('wait_text', { contains: 'o w', timeout_ms: 100 })
})

await step('delete converges', async () => {
  await B.ok('delete', { index: 0, length: 1 })
  await A.ok('wait_text', { equals: 'ello world', timeout_ms: 3000 })
  await A.ok('insert', { index: 0, text: 'h' })
  await B.ok('wait_text', { equals: 'hello world', timeout_ms: 3000 })
})

await step('other Y.Text name', async () => {
  await A.ok('insert', { index: 0, text: 'x', name: 'other' })
  await B.ok('wait_text', { equals: 'x', name: 'other', timeout_ms: 3000 })
  assert.equal((await B.ok('text')).text, 'hello world')
})

await step('wait_text timeout reports last text', async () => {
  const r = await A.send('wait_text', { equals: 'nope', timeout_ms: 100 })
  assert.equal(r.ok, false)
  assert.match(r.error, /"hello world"/)
})

await step('state vectors and updates match', async () => {
  const [a, b] = await Promise.all([A.ok('state_vector'), B.ok('state_vector')])
  assert.equal(a.sv, b.sv)
  const u = await A.ok('update')
  assert.ok(Buffer.from(u.update, 'base64').length > 0)
})

await step('awareness propagates', async () => {
  const a = await A.ok('awareness')
  assert.deepEqual(a.states[a.client_id], { user: { name: 'alice' } })
  await A.ok('awareness_set', { state: { cursor: 3, user: { name: 'alice' } } })
  for (let i = 0; i < 50; i++) {
    const b = await B.ok('awareness')
    if (b.states[a.client_id] && b.states[a.client_id].cursor === 3) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('bob never saw alice cursor')
})

await step('disconnect / offline edit / connect resync', async () => {
  await B.ok('disconnect')
  await B.waitEvent((e) => e.event === 'close' && e.local === true)
  await A.ok('insert', { index: 11, text: '!' })
  await B.ok('insert', { index: 0, text: '>' })
  await B.ok('connect')
  await B.ok('wait_synced', { timeout_ms: 5000 })
  await B.ok('wait_text', { equals: '>hello world!', timeout_ms: 3000 })
  await A.ok('wait_text', { equals: '>hello world!', timeout_ms: 3000 })
})

await step('set_url keeps the doc', async () => {
  await A.ok('set_url', { url: URL2 })
  await A.ok('wait_synced', { timeout_ms: 5000 })
  assert.equal((await A.ok('text')).text, '>hello world!')
  const C = new Client('carol', URL2)
  clients.push(C)
  await C.ok('wait_synced', { timeout_ms: 5000 })
  await C.ok('wait_text', { equals: '>hello world!', timeout_ms: 3000 })
  await A.ok('insert', { index: 13, text: '?' })
  await C.ok('wait_text', { equals: '>hello world!?', timeout_ms: 3000 })
  const s = await A.ok('status')
  assert.ok(s.url.startsWith(URL2 + '/'), s.url)
})

await step('raw_send', async () => {
  await B.ok('raw_send', { hex: '00000100' }) // sync, step1, varUint8Array[1] = empty state vector
  await B.ok('disconnect')
  const r = await B.send('raw_send', { hex: '00' })
  assert.equal(r.ok, false)
})

await step('protocol errors', async () => {
  const r1 = await A.send('nope')
  assert.equal(r1.ok, false)
  assert.match(r1.error, /unknown cmd/)
  const p = new Promise((resolve) => A.pending.set(null, resolve))
  A.raw('{not json')
  const r2 = await p
  assert.equal(r2.ok, false)
  assert.match(r2.error, /bad json/)
})

await step('connection refused reports error/close 1006', async () => {
  const D = new Client('dave', 'ws://127.0.0.1:1', ['--no-reconnect'])
  clients.push(D)
  const c = await D.waitEvent((e) => e.event === 'close', 5000)
  assert.equal(c.code, 1006)
  await D.waitEvent((e) => e.event === 'error', 1000)
})

await step('exit command and stdin close', async () => {
  const last = clients.pop()
  last.proc.stdin.end()
  assert.equal(await last.exited, 0)
  for (const c of clients) {
    await c.ok('exit')
    assert.equal(await c.exited, 0)
  }
})

for (const p of refServers) p.kill()
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
