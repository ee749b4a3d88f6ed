import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest'

import type { Message } from '../api'
import { FakeWebSocket, installFakeWebSocket } from '../testing/FakeWebSocket'
import { RESUME_FALLBACK_MS, RoomSocket, type RoomSocketHandlers } from './RoomSocket'

type Mocked = { [K in keyof RoomSocketHandlers]: Mock<RoomSocketHandlers[K]> }

function handlers(): Mocked {
  return {
    change: vi.fn(),
    ack: vi.fn(),
    error: vi.fn(),
    typing: vi.fn(),
    read: vi.fn(),
    presence: vi.fn(),
    room: vi.fn(),
    connected: vi.fn(),
    resumed: vi.fn(),
    fatal: vi.fn(),
  }
}

const message = (seq: number, version: number): Message => ({
  id: seq,
  seq,
  created_version: version,
  version_seq: version,
  client_id: `c${seq}`,
  author: 'bob',
  body: `m${seq}`,
  parent_id: null,
  created_at: '2026-01-01T10:00:00Z',
  edited_at: null,
  deleted: false,
})

describe('RoomSocket', () => {
  const originalWebSocket = globalThis.WebSocket
  beforeEach(() => {
    vi.useFakeTimers()
    installFakeWebSocket()
  })
  afterEach(() => {
    vi.useRealTimers()
    globalThis.WebSocket = originalWebSocket
  })

  it('resumes after the last version it holds, page by page', () => {
    const on = handlers()
    const socket = new RoomSocket(3, 7, on)
    socket.start()
    const ws = FakeWebSocket.last()
    expect(ws.url).toMatch(/\/ws\/chat\/3\?after_version=7$/)
    expect(socket.status.get()).toBe('connecting')
    ws.open()
    expect(socket.status.get()).toBe('online')
    ws.receive({ type: 'message.new', message: message(4, 9) })
    ws.receive({ type: 'resume.partial', after_version: 9 })
    expect(ws.sentOfType('resume')).toEqual([{ type: 'resume', after_version: 9, after: 9 }])
    expect(on.resumed).not.toHaveBeenCalled()
    ws.receive({ type: 'resume.done', after_version: 12 })
    expect(on.resumed).toHaveBeenCalledTimes(1)
    expect(socket.lastVersion).toBe(12)
    expect(on.change).toHaveBeenCalledWith('message.new', message(4, 9))
    // no resume fallback once the server answered
    vi.advanceTimersByTime(RESUME_FALLBACK_MS * 2)
    expect(ws.sentOfType('resume')).toHaveLength(1)
  })

  it('asks with a resume frame when an old server says nothing', () => {
    const socket = new RoomSocket(3, 5, handlers())
    socket.start()
    const ws = FakeWebSocket.last()
    ws.open()
    vi.advanceTimersByTime(RESUME_FALLBACK_MS + 1)
    expect(ws.sentOfType('resume')).toEqual([{ type: 'resume', after_version: 5, after: 5 }])
  })

  it('re-sends the outbox with the same client_id after every reconnect until acked', () => {
    const on = handlers()
    const socket = new RoomSocket(1, null, on)
    socket.start()
    let ws = FakeWebSocket.last()
    // offline: queued, not sent
    socket.sendMessage({ type: 'message.send', client_id: 'c-1', body: 'hi' })
    ws.open()
    expect(ws.sentOfType('message.send')).toEqual([{ type: 'message.send', client_id: 'c-1', body: 'hi' }])
    ws.serverClose(4500)
    expect(socket.status.get()).toBe('offline')
    vi.advanceTimersByTime(60_000) // jittered backoff
    ws = FakeWebSocket.last()
    expect(FakeWebSocket.all).toHaveLength(2)
    ws.open()
    expect(ws.sentOfType('message.send')).toEqual([{ type: 'message.send', client_id: 'c-1', body: 'hi' }])
    ws.receive({ type: 'message.ack', client_id: 'c-1', seq: 1, id: 10 })
    expect(on.ack).toHaveBeenCalledWith('c-1', 1, 10)
    expect(socket.isQueued('c-1')).toBe(false)
    ws.serverClose(1006)
    vi.advanceTimersByTime(60_000)
    FakeWebSocket.last().open()
    expect(FakeWebSocket.last().sentOfType('message.send')).toHaveLength(0)
  })

  it('holds a rate limited send and sends it again when the wait is over', () => {
    const socket = new RoomSocket(1, null, handlers())
    socket.start()
    const ws = FakeWebSocket.last()
    ws.open()
    socket.sendMessage({ type: 'message.send', client_id: 'c-2', body: 'x' })
    socket.holdAndRetry('c-2', 2)
    vi.advanceTimersByTime(1900)
    expect(ws.sentOfType('message.send')).toHaveLength(1)
    vi.advanceTimersByTime(200)
    expect(ws.sentOfType('message.send')).toHaveLength(2)
  })

  it('gives up on 4401/4403/4404 and reports why', () => {
    const on = handlers()
    const socket = new RoomSocket(1, null, on)
    socket.start()
    FakeWebSocket.last().open()
    FakeWebSocket.last().serverClose(4403)
    expect(socket.status.get()).toBe('closed')
    expect(on.fatal).toHaveBeenCalledWith(4403, expect.stringContaining('access'))
    vi.advanceTimersByTime(120_000)
    expect(FakeWebSocket.all).toHaveLength(1)
  })

  it('stop() drops the connection and start() resumes from where it was', () => {
    const socket = new RoomSocket(1, 3, handlers())
    socket.start()
    FakeWebSocket.last().open()
    FakeWebSocket.last().receive({ type: 'message.new', message: message(5, 8) })
    socket.stop()
    expect(FakeWebSocket.last().closedWith).toBe(1000)
    expect(socket.send({ type: 'typing', active: true })).toBe(false)
    socket.start()
    expect(FakeWebSocket.last().url).toMatch(/after_version=8$/)
  })

  it('closes a connection that does not answer a ping', () => {
    const socket = new RoomSocket(1, null, handlers())
    socket.start()
    const ws = FakeWebSocket.last()
    ws.open()
    vi.advanceTimersByTime(25_000)
    expect(ws.sentOfType('ping')).toHaveLength(1)
    vi.advanceTimersByTime(10_001)
    expect(ws.closedWith).toBe(4000)
  })

  it('passes typing, read, presence, room and error frames on; ignores junk', () => {
    const on = handlers()
    const socket = new RoomSocket(1, null, on)
    socket.start()
    const ws = FakeWebSocket.last()
    ws.open()
    ws.receive({ type: 'typing', user: 'bob', active: true, expires_in: 4 })
    ws.receive({ type: 'read', user: 'bob', seq: 3 })
    ws.receive({ type: 'presence', here: [{ user: 'bob', status: 'online' }] })
    ws.receive({ type: 'room', room: { id: 1, name: 'new' } })
    ws.receive({ type: 'error', code: 'rate_limited', client_id: 'c', retry_after: 1 })
    ws.onmessage?.(new MessageEvent('message', { data: 'not json' }))
    expect(on.typing).toHaveBeenCalledWith('bob', true, 4)
    expect(on.read).toHaveBeenCalledWith('bob', 3)
    expect(on.presence).toHaveBeenCalledWith([{ user: 'bob', status: 'online' }])
    expect(on.room).toHaveBeenCalledWith({ id: 1, name: 'new' })
    expect(on.error).toHaveBeenCalledWith(expect.objectContaining({ code: 'rate_limited' }))
  })
})
