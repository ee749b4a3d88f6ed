import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { chatApi, type Message } from '../api'
import { FakeWebSocket, installFakeWebSocket } from '../testing/FakeWebSocket'
import { RoomController, type RoomEnv } from './RoomController'

const message = (seq: number, over: Partial<Message> = {}): Message => ({
  id: seq,
  seq,
  created_version: seq,
  version_seq: seq,
  client_id: `c${seq}`,
  author: 'bob',
  body: `m${seq}`,
  parent_id: null,
  reply_count: 0,
  reactions: [],
  created_at: '2026-03-02T10:00:00Z',
  edited_at: null,
  deleted: false,
  ...over,
})

function env(messages: Message[]): RoomEnv {
  const api = {
    ...chatApi,
    messages: vi.fn().mockResolvedValue({ messages, has_more: false }),
    thread: vi.fn().mockRejectedValue(new Error('no thread endpoint')),
  }
  return {
    me: 'me',
    inbox: {
      setActive: vi.fn(),
      noteActivity: vi.fn(),
      markRead: vi.fn(),
      refresh: vi.fn().mockResolvedValue(undefined),
    },
    patchRoom: vi.fn(),
    api,
  }
}

async function openRoom(messages: Message[] = [message(1), message(2)]) {
  const e = env(messages)
  const room = new RoomController(7, e)
  room.setAccess({ isMember: true, canPost: true })
  await room.start({
    id: 7,
    name: 'r',
    kind: 'public',
    last_seq: 2,
    last_version: 2,
    last_read_seq: 2,
    unread: 0,
  })
  const ws = FakeWebSocket.last()
  ws.open()
  ws.receive({ type: 'resume.done', after_version: 2 })
  return { room, ws, env: e }
}

describe('RoomController', () => {
  const originalWebSocket = globalThis.WebSocket
  beforeEach(() => {
    vi.useFakeTimers()
    installFakeWebSocket()
  })
  afterEach(() => {
    vi.useRealTimers()
    globalThis.WebSocket = originalWebSocket
  })

  it('loads the newest page, then connects resuming after its highest version', async () => {
    const { room, ws } = await openRoom()
    expect(ws.url).toMatch(/\/ws\/chat\/7\?after_version=2$/)
    expect(room.store.get().top.map((m) => m.seq)).toEqual([1, 2])
    expect(room.history.state.get()).toBe('start')
    expect(room.status.get()).toBe('online')
  })

  it('shows a send as pending, then acked, then as the stored message', async () => {
    const { room, ws, env: e } = await openRoom()
    room.post('hello', null)
    const clientId = String(ws.sentOfType('message.send')[0]?.client_id)
    expect(room.store.get().pending).toMatchObject([{ clientId, state: 'sending' }])
    ws.receive({ type: 'message.ack', client_id: clientId, seq: 3, id: 30 })
    expect(room.store.get().pending).toMatchObject([{ clientId, state: 'acked', seq: 3 }])
    ws.receive({ type: 'message.new', message: message(3, { id: 30, author: 'me', client_id: clientId }) })
    expect(room.store.get().pending).toEqual([])
    expect(room.store.get().top.at(-1)?.id).toBe(30)
    expect(e.inbox.noteActivity).toHaveBeenCalledWith(7, 3, 'me')
  })

  it('re-sends the same client_id after a reconnect, once', async () => {
    const { room, ws } = await openRoom()
    room.socket?.stop()
    room.post('offline', null)
    room.socket?.start()
    const again = FakeWebSocket.last()
    expect(again).not.toBe(ws)
    again.open()
    expect(again.sentOfType('message.send')).toHaveLength(1)
    expect(again.sentOfType('message.send')[0]?.client_id).toBe(room.store.get().pending[0]?.clientId)
  })

  it('counts a rate limit down and sends the message again by itself', async () => {
    const { room, ws } = await openRoom()
    room.post('too fast', null)
    const clientId = String(ws.sentOfType('message.send')[0]?.client_id)
    ws.receive({
      type: 'error',
      code: 'rate_limited',
      frame: 'message.send',
      client_id: clientId,
      retry_after: 3,
    })
    expect(room.notices.get()).toMatchObject([{ code: 'rate_limited', kind: 'warn' }])
    expect(room.store.get().pending[0]?.state).toBe('sending')
    vi.advanceTimersByTime(2900)
    expect(ws.sentOfType('message.send')).toHaveLength(1)
    vi.advanceTimersByTime(200)
    expect(ws.sentOfType('message.send')).toHaveLength(2)
    expect(ws.sentOfType('message.send')[1]?.client_id).toBe(clientId)
    vi.advanceTimersByTime(1000)
    expect(room.notices.get()).toEqual([]) // the countdown is over
  })

  it('marks a refused send "not sent"; Retry sends the same client_id, Discard drops it', async () => {
    const { room, ws } = await openRoom()
    room.post('no', null)
    const clientId = String(ws.sentOfType('message.send')[0]?.client_id)
    ws.receive({ type: 'error', code: 'archived', frame: 'message.send', client_id: clientId })
    expect(room.store.get().pending[0]?.state).toBe('failed')
    expect(room.store.get().pending[0]?.error).toContain('archived')
    room.retry(clientId)
    expect(ws.sentOfType('message.send').map((f) => f.client_id)).toEqual([clientId, clientId])
    expect(room.store.get().pending[0]?.state).toBe('sending')
    room.discard(clientId)
    expect(room.store.get().pending).toEqual([])
    ws.serverClose(1006)
    vi.advanceTimersByTime(60_000)
    FakeWebSocket.last().open()
    expect(FakeWebSocket.last().sentOfType('message.send')).toHaveLength(0)
  })

  it('keeps an edit box until the change frame confirms it', async () => {
    const { room, ws } = await openRoom([message(1, { author: 'me' })])
    const m = room.store.message(1)
    if (!m) throw new Error('no message')
    room.edits.start(m, 'main')
    room.edits.save(m, 'changed')
    expect(ws.sentOfType('message.edit')).toEqual([{ type: 'message.edit', id: 1, body: 'changed' }])
    expect(room.edits.state.get()).toMatchObject({ saving: true })
    ws.receive({
      type: 'message.edit',
      message: message(1, { author: 'me', body: 'changed', version_seq: 5 }),
    })
    expect(room.edits.state.get()).toBeNull()
  })

  it('says why when the room is closed for good', async () => {
    const { room, ws, env: e } = await openRoom()
    ws.serverClose(4403)
    expect(room.fatalText.get()).toMatch(/access/)
    expect(room.status.get()).toBe('closed')
    expect(e.inbox.refresh).toHaveBeenCalled()
  })

  it('sends read markers for what is visible, debounced', async () => {
    const { room, ws, env: e } = await openRoom([message(1), message(2), message(3)])
    vi.spyOn(document, 'hasFocus').mockReturnValue(true)
    room.setVisibleSeq(() => 3)
    room.scheduleRead()
    room.scheduleRead()
    vi.advanceTimersByTime(500)
    expect(ws.sentOfType('read')).toEqual([{ type: 'read', seq: 3 }])
    expect(e.inbox.markRead).toHaveBeenCalledWith(7, 3)
  })
})
