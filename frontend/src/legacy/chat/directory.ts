// The caller's rooms with unread counts: GET /api/chat/rooms, kept live by the inbox
// websocket `ws/chat` (room.activity / read / rooms.changed). Without an inbox socket
// (a server that answers 4404, or while it reconnects) the list is polled every 15 s.

import { reconnectDelay } from '../backoff'
import { chatApi, parseFrame, wsUrl, type Room } from './api'

export type LiveMode = 'inbox' | 'poll'

const POLL_MS = 15_000

export class RoomDirectory {
  rooms = new Map<number, Room>()
  loaded = false
  mode: LiveMode = 'poll'
  error: unknown = null
  private listeners = new Set<() => void>()
  private activityListeners = new Set<(roomId: number, seq: number, author: string) => void>()
  private inflight: Promise<void> | null = null
  private again = false
  private ws: WebSocket | null = null
  private attempt = 0
  private retryTimer: number | undefined
  private pollTimer: number | undefined
  private stopped = false
  private inboxMissing = false
  private pingTimer: number | undefined
  private lastPresence = 0
  /** The open room: it never shows an unread badge (Slack does the same). */
  private activeId: number | null = null

  constructor(readonly me: string) {}

  start(): void {
    this.stopped = false
    void this.refresh()
    this.connect()
    this.pollTimer = window.setInterval(() => {
      if (this.mode !== 'inbox') void this.refresh()
    }, POLL_MS)
    document.addEventListener('visibilitychange', this.onVisible)
  }

  stop(): void {
    this.stopped = true
    window.clearInterval(this.pollTimer)
    window.clearInterval(this.pingTimer)
    window.clearTimeout(this.retryTimer)
    document.removeEventListener('visibilitychange', this.onVisible)
    if (this.ws) {
      this.ws.onclose = this.ws.onmessage = this.ws.onopen = null
      this.ws.close(1000)
      this.ws = null
    }
    this.listeners.clear()
    this.activityListeners.clear()
  }

  private onVisible = () => {
    if (document.visibilityState === 'visible' && this.mode !== 'inbox') void this.refresh()
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  onActivity(fn: (roomId: number, seq: number, author: string) => void): () => void {
    this.activityListeners.add(fn)
    return () => this.activityListeners.delete(fn)
  }

  setActive(id: number | null): void {
    this.activeId = id
    const r = id === null ? undefined : this.rooms.get(id)
    if (r?.unread) {
      r.unread = 0
      this.emit()
    }
  }

  get(id: number): Room | undefined {
    return this.rooms.get(id)
  }

  totalUnread(): number {
    let n = 0
    for (const r of this.rooms.values()) n += r.unread || 0
    return n
  }

  private emit(): void {
    for (const fn of this.listeners) {
      try {
        fn()
      } catch (e) {
        console.error(e)
      }
    }
  }

  /** Fetch the room list (coalesced: one request in flight, at most one more queued). */
  refresh(): Promise<void> {
    if (this.inflight) {
      this.again = true
      return this.inflight
    }
    this.inflight = (async () => {
      try {
        const list = await chatApi.rooms()
        const next = new Map<number, Room>()
        for (const r of list) {
          if (r.id === this.activeId) r.unread = 0
          next.set(r.id, r)
        }
        this.rooms = next
        this.loaded = true
        this.error = null
      } catch (e) {
        this.error = e
      } finally {
        this.inflight = null
      }
      if (!this.stopped) this.emit()
      if (this.again && !this.stopped) {
        this.again = false
        await this.refresh()
      }
    })()
    return this.inflight
  }

  /** Put a room the caller just created or joined into the list right away. */
  upsert(room: Room): void {
    this.rooms.set(room.id, { ...this.rooms.get(room.id), ...room, unread: room.unread ?? 0 })
    this.emit()
  }

  remove(id: number): void {
    if (this.rooms.delete(id)) this.emit()
  }

  /** The caller read up to `seq` in a room (this tab): clear the badge locally. */
  markRead(id: number, seq: number): void {
    const r = this.rooms.get(id)
    if (!r) return
    r.last_read_seq = Math.max(r.last_read_seq ?? 0, seq)
    if (seq >= r.last_seq && r.unread) {
      r.unread = 0
      this.emit()
    }
  }

  /** A message was posted (seen on the open room's socket or the inbox). */
  noteActivity(id: number, seq: number, author: string | null): void {
    const r = this.rooms.get(id)
    if (!r) return
    if (seq <= r.last_seq) return // already counted
    r.last_seq = seq
    if (author !== this.me && id !== this.activeId && seq > (r.last_read_seq ?? 0)) r.unread = (r.unread || 0) + 1
    this.emit()
  }

  /** The user did something: tell the inbox (online/away), at most every 30 s. */
  presenceActive(): void {
    const now = Date.now()
    if (this.mode !== 'inbox' || !this.ws || this.ws.readyState !== WebSocket.OPEN || now - this.lastPresence < 30_000) return
    this.ws.send(JSON.stringify({ type: 'presence', state: 'active' }))
    this.lastPresence = now
  }

  // ---------------------------------------------------------------- inbox socket

  private connect(): void {
    if (this.stopped || this.inboxMissing) return
    let ws: WebSocket
    try {
      ws = new WebSocket(wsUrl('/ws/chat'))
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
      }, 25_000)
    }
    ws.onmessage = (ev) => {
      const f = parseFrame(ev.data)
      if (!f) return
      if (this.mode !== 'inbox') {
        // The first frame proves this is a real inbox (an unknown path accepts, then closes 4404).
        this.mode = 'inbox'
        this.attempt = 0
        void this.refresh() // catch up on what happened while we were not listening
      }
      this.dispatch(f)
    }
    ws.onclose = (ev) => {
      this.ws = null
      window.clearInterval(this.pingTimer)
      const wasInbox = this.mode === 'inbox'
      this.mode = 'poll'
      if (wasInbox) this.emit()
      if (this.stopped) return
      if (ev.code === 4404 || ev.code === 4401 || ev.code === 4403) {
        // No inbox on this server (yet), or not allowed: polling it is.
        this.inboxMissing = true
        return
      }
      if (opened && !wasInbox) {
        // Accepted but never said anything before closing: treat like a server without inbox,
        // but look again later in case it is being deployed.
        this.attempt = Math.max(this.attempt, 6)
      }
      this.scheduleReconnect()
    }
    // An inbox that says nothing for a while is still an inbox: promote it after 3 s open.
    window.setTimeout(() => {
      if (this.ws === ws && ws.readyState === WebSocket.OPEN && this.mode !== 'inbox') {
        this.mode = 'inbox'
        this.attempt = 0
        void this.refresh()
      }
    }, 3000)
  }

  private scheduleReconnect(): void {
    window.clearTimeout(this.retryTimer)
    this.retryTimer = window.setTimeout(() => this.connect(), 1000 + reconnectDelay(this.attempt++))
  }

  private dispatch(f: Record<string, unknown>): void {
    switch (f.type) {
      case 'room.activity': {
        const id = Number(f.room_id)
        const seq = Number(f.seq)
        const author = typeof f.author === 'string' ? f.author : ''
        if (!this.rooms.has(id)) {
          void this.refresh()
          return
        }
        this.noteActivity(id, seq, author)
        for (const fn of this.activityListeners) fn(id, seq, author)
        return
      }
      case 'read': {
        const id = Number(f.room_id)
        const seq = Number(f.seq)
        const r = this.rooms.get(id)
        if (!r || (typeof f.user === 'string' && f.user !== this.me)) return
        r.last_read_seq = Math.max(r.last_read_seq ?? 0, seq)
        if (seq >= r.last_seq) {
          if (r.unread) {
            r.unread = 0
            this.emit()
          }
        } else void this.refresh() // an exact count needs the server
        return
      }
      case 'rooms.changed':
        void this.refresh()
        return
      case 'pong':
      case 'error':
        return
      default:
        return
    }
  }
}
