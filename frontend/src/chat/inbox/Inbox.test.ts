import { QueryClient, QueryObserver } from '@tanstack/react-query'
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest'

import { meKey } from '../../account/queries'
import { chatApi, type Room } from '../api'
import { FakeWebSocket, installFakeWebSocket } from '../testing/FakeWebSocket'
import { Inbox, POLL_MS, roomsKey } from './Inbox'

const room = (id: number, over: Partial<Room> = {}): Room => ({
  id,
  name: `room ${id}`,
  kind: 'public',
  last_seq: 10,
  last_version: 10,
  last_read_seq: 8,
  unread: 2,
  ...over,
})

describe('Inbox', () => {
  const originalWebSocket = globalThis.WebSocket
  let queryClient: QueryClient
  let inbox: Inbox
  let fetchRooms: MockInstance<typeof chatApi.rooms>

  beforeEach(() => {
    vi.useFakeTimers()
    installFakeWebSocket()
    queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } })
    queryClient.setQueryData(meKey, { username: 'me' })
    inbox = new Inbox(queryClient)
    fetchRooms = vi.spyOn(chatApi, 'rooms').mockResolvedValue([room(1), room(2, { unread: 0 })])
    // an observer, as the top bar has
    new QueryObserver(queryClient, { queryKey: roomsKey, queryFn: inbox.fetchRooms }).subscribe(
      () => undefined,
    )
  })
  afterEach(() => {
    vi.useRealTimers()
    globalThis.WebSocket = originalWebSocket
    queryClient.clear()
  })

  const rooms = () => queryClient.getQueryData<Room[]>(roomsKey) ?? []

  it('applies activity and read frames to the cached room list', () => {
    queryClient.setQueryData(roomsKey, [room(1), room(2, { unread: 0 })])
    inbox.acquire()
    const ws = FakeWebSocket.last()
    expect(ws.url).toMatch(/\/ws\/chat$/)
    ws.open()
    ws.receive({ type: 'room.activity', room_id: 2, seq: 11, author: 'bob', parent_id: null })
    expect(inbox.mode.get()).toBe('inbox')
    expect(rooms().find((r) => r.id === 2)?.unread).toBe(1)
    ws.receive({ type: 'room.activity', room_id: 2, seq: 11, author: 'bob', parent_id: null })
    ws.receive({ type: 'room.activity', room_id: 2, seq: 12, author: 'me', parent_id: null })
    expect(rooms().find((r) => r.id === 2)).toMatchObject({ unread: 1, last_seq: 12 })
    ws.receive({ type: 'read', room_id: 1, user: 'me', seq: 10 })
    expect(rooms().find((r) => r.id === 1)?.unread).toBe(0)
    ws.receive({ type: 'read', room_id: 2, user: 'someone else', seq: 12 })
    expect(rooms().find((r) => r.id === 2)?.unread).toBe(1)
  })

  it('never counts the open room', async () => {
    queryClient.setQueryData(roomsKey, [room(1)])
    inbox.setActive(1)
    expect(rooms()[0]?.unread).toBe(0)
    inbox.noteActivity(1, 11, 'bob')
    expect(rooms()[0]?.unread).toBe(0)
    expect(await inbox.fetchRooms()).toEqual([room(1, { unread: 0 }), room(2, { unread: 0 })])
  })

  it('fetches the list again on rooms.changed and on activity in an unknown room', async () => {
    queryClient.setQueryData(roomsKey, [room(1)])
    inbox.acquire()
    const ws = FakeWebSocket.last()
    ws.open()
    ws.receive({ type: 'rooms.changed' })
    await vi.advanceTimersByTimeAsync(0)
    const calls = fetchRooms.mock.calls.length
    expect(calls).toBeGreaterThan(0)
    ws.receive({ type: 'room.activity', room_id: 99, seq: 1, author: 'bob' })
    await vi.advanceTimersByTimeAsync(0)
    expect(fetchRooms.mock.calls.length).toBeGreaterThan(calls)
  })

  it('polls every 15 s when the server has no inbox (4404), and does not reconnect', async () => {
    inbox.acquire()
    FakeWebSocket.last().open()
    FakeWebSocket.last().serverClose(4404)
    expect(inbox.mode.get()).toBe('poll')
    fetchRooms.mockClear()
    await vi.advanceTimersByTimeAsync(POLL_MS)
    expect(fetchRooms).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(POLL_MS)
    expect(fetchRooms).toHaveBeenCalledTimes(2)
    expect(FakeWebSocket.all).toHaveLength(1)
  })

  it('reconnects with a delay after a dropped connection, and does not poll while live', async () => {
    inbox.acquire()
    FakeWebSocket.last().open()
    FakeWebSocket.last().receive({ type: 'pong' })
    fetchRooms.mockClear()
    await vi.advanceTimersByTimeAsync(POLL_MS * 2)
    expect(fetchRooms).not.toHaveBeenCalled()
    FakeWebSocket.last().serverClose(1006)
    await vi.advanceTimersByTimeAsync(900)
    expect(FakeWebSocket.all).toHaveLength(1) // at least 1 s, plus jitter
    await vi.advanceTimersByTimeAsync(2000)
    expect(FakeWebSocket.all).toHaveLength(2)
  })

  it('keeps one socket for all its users and closes a moment after the last lets go', async () => {
    const releaseA = inbox.acquire()
    const releaseB = inbox.acquire()
    expect(FakeWebSocket.all).toHaveLength(1)
    const ws = FakeWebSocket.last()
    ws.open()
    releaseA()
    releaseA()
    await vi.advanceTimersByTimeAsync(5000)
    expect(ws.closedWith).toBeNull()
    releaseB()
    const releaseC = inbox.acquire() // e.g. a remount right away
    await vi.advanceTimersByTimeAsync(5000)
    expect(ws.closedWith).toBeNull()
    releaseC()
    await vi.advanceTimersByTimeAsync(1500)
    expect(ws.closedWith).toBe(1000)
  })

  it('sends presence at most every 30 s', () => {
    inbox.acquire()
    const ws = FakeWebSocket.last()
    ws.open()
    ws.receive({ type: 'pong' })
    inbox.presenceActive()
    inbox.presenceActive()
    expect(ws.sentOfType('presence')).toHaveLength(1)
    vi.advanceTimersByTime(30_001)
    inbox.presenceActive()
    expect(ws.sentOfType('presence')).toHaveLength(2)
  })
})
