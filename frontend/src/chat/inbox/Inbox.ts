// One inbox websocket `ws/chat` per tab while signed in, for the room list: `room.activity`,
// `read` and `rooms.changed` are applied to the TanStack Query cache of GET /api/chat/rooms
// (['chat','rooms']). Without an inbox (the path closes with 4404, or while it reconnects) the
// list is polled every 15 s. Shared by every component that needs it: acquire() counts them,
// and the socket closes a moment after the last one let go.
import type { QueryClient } from '@tanstack/react-query'

import { meKey } from '../../account/queries'
import { reconnectDelay } from '../../shared/backoff'
import { chatApi, parseFrame, wsUrl, type Room } from '../api'
import { Store } from '../lib/store'

export type LiveMode = 'inbox' | 'poll'

export const roomsKey = ['chat', 'rooms'] as const
export const POLL_MS = 15_000
const PRESENCE_EVERY_MS = 30_000
const PING_EVERY_MS = 25_000
/** An inbox that says nothing for a while is still an inbox. */
const PROMOTE_AFTER_MS = 3000
/** Let go for this long before closing (a remount, or moving between pages, keeps the socket). */
const LINGER_MS = 1000

type WebSocketClass = new (url: string) => WebSocket

export class Inbox {
  readonly mode = new Store<LiveMode>('poll')
  private users = 0
  private running = false
  private ws: WebSocket | null = null
  private attempt = 0
  private retryTimer: number | undefined
  private pollTimer: number | undefined
  private pingTimer: number | undefined
  private lingerTimer: number | undefined
  private inboxMissing = false
  private lastPresence = 0
  /** The open room: it never shows an unread badge. */
  private activeId: number | null = null

  constructor(
    private readonly queryClient: QueryClient,
    private readonly Socket: WebSocketClass = WebSocket,
  ) {}

  /** The room list (the queryFn of ['chat','rooms']): the open room's unread count is 0. */
  readonly fetchRooms = async (): Promise<Room[]> => {
    const rooms = await chatApi.rooms()
    return rooms.map((r) => (r.id === this.activeId && r.unread ? { ...r, unread: 0 } : r))
  }

  /** Start using the inbox; call the returned function to stop. */
  acquire(): () => void {
    this.users++
    window.clearTimeout(this.lingerTimer)
    if (!this.running) this.start()
    let released = false
    return () => {
      if (released) return
      released = true
      if (--this.users > 0) return
      window.clearTimeout(this.lingerTimer)
      this.lingerTimer = window.setTimeout(() => {
        if (this.users === 0) this.stop()
      }, LINGER_MS)
    }
  }

  get rooms(): Room[] {
    return this.queryClient.getQueryData<Room[]>(roomsKey) ?? []
  }

  /** Fetch the room list again (now). */
  refresh(): Promise<void> {
    return this.queryClient.invalidateQueries({ queryKey: roomsKey, exact: true })
  }

  setActive(id: number | null): void {
    this.activeId = id
    if (id !== null) this.patchRoom(id, (r) => (r.unread ? { ...r, unread: 0 } : r))
  }

  /** Put a room the caller just created or joined into the list right away. */
  upsert(room: Room): void {
    this.queryClient.setQueryData<Room[]>(roomsKey, (old) => {
      const list = old ?? []
      const had = list.find((r) => r.id === room.id)
      const next = { ...had, ...room, unread: room.unread }
      return had ? list.map((r) => (r.id === room.id ? next : r)) : [...list, next]
    })
  }

  remove(id: number): void {
    this.queryClient.setQueryData<Room[]>(roomsKey, (old) => old?.filter((r) => r.id !== id))
  }

  /** The caller read up to `seq` in a room: clear its badge here at once. */
  markRead(id: number, seq: number): void {
    this.patchRoom(id, (r) => {
      const last_read_seq = Math.max(r.last_read_seq ?? 0, seq)
      const unread = seq >= r.last_seq ? 0 : r.unread
      return last_read_seq === r.last_read_seq && unread === r.unread ? r : { ...r, last_read_seq, unread }
    })
  }

  /** A message was posted (seen on the open room's socket or the inbox). */
  noteActivity(id: number, seq: number, author: string | null): void {
    const me = this.me()
    this.patchRoom(id, (r) => {
      if (seq <= r.last_seq) return r // already counted
      const counts = author !== me && id !== this.activeId && seq > (r.last_read_seq ?? 0)
      return { ...r, last_seq: seq, unread: counts ? r.unread + 1 : r.unread }
    })
    // A list on its way from the server may predate this message: ask again after it.
    if (this.queryClient.isFetching({ queryKey: roomsKey })) void this.refresh()
  }

  /** The user did something: tell the inbox (online/away), at most every 30 s. */
  presenceActive(): void {
    const now = Date.now()
    if (this.mode.get() !== 'inbox' || now - this.lastPresence < PRESENCE_EVERY_MS) return
    if (this.ws?.readyState !== WebSocket.OPEN) return
    this.ws.send(JSON.stringify({ type: 'presence', state: 'active' }))
    this.lastPresence = now
  }

  private me(): string | undefined {
    return this.queryClient.getQueryData<{ username: string } | null>(meKey)?.username
  }

  private patchRoom(id: number, fn: (r: Room) => Room): void {
    this.queryClient.setQueryData<Room[]>(roomsKey, (old) => {
      const i = old ? old.findIndex((r) => r.id === id) : -1
      if (!old || i < 0) return old
      const updated = fn(old[i])
      return updated === old[i] ? old : old.map((r, k) => (k === i ? updated : r))
    })
  }

  private start(): void {
    this.running = true
    this.inboxMissing = false
    this.connect()
    this.pollTimer = window.setInterval(() => {
      if (this.mode.get() !== 'inbox') void this.refresh()
    }, POLL_MS)
    document.addEventListener('visibilitychange', this.onVisible)
  }

  private stop(): void {
    this.running = false
    window.clearInterval(this.pollTimer)
    window.clearInterval(this.pingTimer)
    window.clearTimeout(this.retryTimer)
    document.removeEventListener('visibilitychange', this.onVisible)
    if (this.ws) {
      this.ws.onclose = this.ws.onmessage = this.ws.onopen = null
      this.ws.close(1000)
      this.ws = null
    }
    this.mode.set('poll')
  }

  private readonly onVisible = () => {
    if (document.visibilityState === 'visible' && this.mode.get() !== 'inbox') void this.refresh()
  }

  private promote(): void {
    if (this.mode.get() === 'inbox') return
    this.mode.set('inbox')
    this.attempt = 0
    void this.refresh() // catch up on what happened while nobody listened
  }

  private connect(): void {
    if (!this.running || this.inboxMissing) return
    let ws: WebSocket
    try {
      ws = new this.Socket(wsUrl('/ws/chat'))
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    let opened = false
    ws.onopen = () => {
      opened = true
      // The inbox answers `pong`; a path without an inbox closes with 4404 instead.
      ws.send(JSON.stringify({ type: 'ping' }))
      this.lastPresence = 0
      window.clearInterval(this.pingTimer)
      this.pingTimer = window.setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }))
      }, PING_EVERY_MS)
      window.setTimeout(() => {
        if (this.ws === ws && ws.readyState === WebSocket.OPEN) this.promote()
      }, PROMOTE_AFTER_MS)
    }
    ws.onmessage = (ev: MessageEvent) => {
      const frame = parseFrame(ev.data)
      if (!frame) return
      this.promote() // the first frame proves this is a real inbox
      this.dispatch(frame)
    }
    ws.onclose = (ev: CloseEvent) => {
      this.ws = null
      window.clearInterval(this.pingTimer)
      const wasInbox = this.mode.get() === 'inbox'
      this.mode.set('poll')
      if (!this.running) return
      if (ev.code === 4404 || ev.code === 4401 || ev.code === 4403) {
        this.inboxMissing = true // no inbox on this server (yet), or not allowed: polling it is
        return
      }
      // Accepted but silent before closing: look again later, in case it is being deployed.
      if (opened && !wasInbox) this.attempt = Math.max(this.attempt, 6)
      this.scheduleReconnect()
    }
  }

  private scheduleReconnect(): void {
    window.clearTimeout(this.retryTimer)
    this.retryTimer = window.setTimeout(() => this.connect(), 1000 + reconnectDelay(this.attempt++))
  }

  private dispatch(f: Record<string, unknown>): void {
    switch (f.type) {
      case 'room.activity': {
        const id = Number(f.room_id)
        if (!this.rooms.some((r) => r.id === id)) {
          void this.refresh() // a room we did not know of (just added to it)
          return
        }
        this.noteActivity(id, Number(f.seq), typeof f.author === 'string' ? f.author : null)
        return
      }
      case 'read': {
        const id = Number(f.room_id)
        const seq = Number(f.seq)
        const room = this.rooms.find((r) => r.id === id)
        if (!room || (typeof f.user === 'string' && f.user !== this.me())) return
        if (seq >= room.last_seq) this.markRead(id, seq)
        else void this.refresh() // an exact count needs the server
        return
      }
      case 'rooms.changed':
        void this.refresh()
        return
      default:
        return
    }
  }
}

const inboxes = new WeakMap<QueryClient, Inbox>()

/** The tab's inbox (one per query client, i.e. per signed-in session of the app). */
export function inboxFor(queryClient: QueryClient): Inbox {
  let inbox = inboxes.get(queryClient)
  if (!inbox) inboxes.set(queryClient, (inbox = new Inbox(queryClient)))
  return inbox
}
