// The room websocket `ws/chat/{id}`: reconnects with jittered backoff, resumes from the last
// version seen (paged: resume.partial → resume), and keeps unacknowledged message.send frames
// in an outbox that is sent again, with the SAME client_id, after every reconnect (the server
// stores a client_id once, so retries are safe). No React here: RoomController drives it.
import { reconnectDelay } from '../../shared/backoff'
import { parseFrame, wsUrl, type HereEntry, type Message } from '../api'
import { Store } from '../lib/store'

export type SocketStatus = 'connecting' | 'online' | 'offline' | 'closed'
export type ChangeKind = 'message.new' | 'message.edit' | 'message.delete' | 'message.reaction'

export interface ErrorFrame {
  type: 'error'
  code: string
  message?: string
  frame?: string
  client_id?: string
  id?: number
  retry_after?: number
}

export interface RoomFrame {
  id: number
  name?: string
  kind?: string
  archived?: boolean
}

export interface RoomSocketHandlers {
  change(kind: ChangeKind, message: Message): void
  ack(clientId: string, seq: number, id: number): void
  error(frame: ErrorFrame): void
  typing(user: string, active: boolean, expiresIn: number): void
  read(user: string, seq: number): void
  presence(here: HereEntry[]): void
  room(room: RoomFrame): void
  /** A connection opened (again). */
  connected(): void
  /** The resume finished: everything up to the server's current version has been sent. */
  resumed(): void
  /** A close that must not be retried (4401/4403/4404). */
  fatal(code: number, message: string): void
}

export const FATAL_CHAT_CLOSE: Record<number, string> = {
  4401: 'You are not signed in (or your session has expired).',
  4403: 'You do not have access to this room.',
  4404: 'This room does not exist.',
}

export const PING_EVERY_MS = 25_000
const PONG_WITHIN_MS = 10_000
// Servers that predate `?after_version=` ignore it (and answer nothing); if no resume frame
// arrives this soon after connecting we ask with a `resume` frame that carries both names.
export const RESUME_FALLBACK_MS = 1500
/** Only a connection that stays up this long resets the backoff. */
const STABLE_MS = 5000

export interface SendFrame {
  type: 'message.send'
  client_id: string
  body: string
  parent_id?: number
}

/** A client id for message.send: a UUID (crypto.randomUUID needs a secure context). */
export function newClientId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

type WebSocketClass = new (url: string) => WebSocket

export class RoomSocket {
  /** The highest `version_seq` received; the next connection resumes after it. */
  lastVersion: number | null
  readonly status = new Store<SocketStatus>('connecting')
  private ws: WebSocket | null = null
  private attempt = 0
  private retryTimer: number | undefined
  private pingTimer: number | undefined
  private pongTimer: number | undefined
  private resumeFallback: number | undefined
  private stableTimer: number | undefined
  private resumeSeen = false
  private stopped = false
  private readonly outbox = new Map<string, SendFrame>()
  private readonly held = new Map<string, number>() // client_id -> timer (rate limited, resent later)

  constructor(
    readonly roomId: number,
    lastVersion: number | null,
    private readonly on: RoomSocketHandlers,
    private readonly Socket: WebSocketClass = WebSocket,
  ) {
    this.lastVersion = lastVersion
  }

  start(): void {
    this.stopped = false
    if (!this.ws) this.open()
  }

  stop(): void {
    this.stopped = true
    this.clearTimers()
    for (const t of this.held.values()) window.clearTimeout(t)
    this.held.clear()
    if (this.ws) {
      this.ws.onclose = this.ws.onmessage = this.ws.onopen = this.ws.onerror = null
      this.ws.close(1000)
      this.ws = null
    }
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  /** Queue a message; it is sent now if connected and again after every reconnect until acked. */
  sendMessage(frame: SendFrame): void {
    this.outbox.set(frame.client_id, frame)
    if (!this.held.has(frame.client_id)) this.raw(frame)
  }

  /** Forget a queued message (acked, or given up by the user). */
  settle(clientId: string): void {
    this.outbox.delete(clientId)
    window.clearTimeout(this.held.get(clientId))
    this.held.delete(clientId)
  }

  /** Send a queued message again after `seconds` (rate limited). */
  holdAndRetry(clientId: string, seconds: number): void {
    window.clearTimeout(this.held.get(clientId))
    const timer = window.setTimeout(
      () => {
        this.held.delete(clientId)
        const frame = this.outbox.get(clientId)
        if (frame) this.raw(frame)
      },
      Math.max(250, seconds * 1000),
    )
    this.held.set(clientId, timer)
  }

  isQueued(clientId: string): boolean {
    return this.outbox.has(clientId)
  }

  /** Send any other frame; false when not connected (nothing is queued). */
  send(frame: Record<string, unknown>): boolean {
    return this.raw(frame)
  }

  /** Reconnect now (e.g. the browser came back online). */
  kick(): void {
    if (this.stopped || this.ws) return
    this.attempt = 0
    window.clearTimeout(this.retryTimer)
    this.open()
  }

  private raw(frame: unknown): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false
    this.ws.send(JSON.stringify(frame))
    return true
  }

  private clearTimers(): void {
    window.clearTimeout(this.retryTimer)
    window.clearInterval(this.pingTimer)
    window.clearTimeout(this.pongTimer)
    window.clearTimeout(this.resumeFallback)
    window.clearTimeout(this.stableTimer)
    this.retryTimer = this.pingTimer = this.pongTimer = this.resumeFallback = this.stableTimer = undefined
  }

  private open(): void {
    if (this.stopped) return
    this.status.set(this.attempt ? 'offline' : 'connecting')
    const params = this.lastVersion !== null ? { after_version: this.lastVersion } : {}
    let ws: WebSocket
    try {
      ws = new this.Socket(wsUrl(`/ws/chat/${this.roomId}`, params))
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    this.resumeSeen = false
    ws.onopen = () => this.opened()
    ws.onmessage = (ev: MessageEvent) => {
      window.clearTimeout(this.pongTimer) // any frame proves the connection is alive
      this.pongTimer = undefined
      const frame = parseFrame(ev.data)
      if (frame) this.dispatch(frame)
    }
    ws.onclose = (ev: CloseEvent) => this.closed(ev.code)
  }

  private opened(): void {
    this.status.set('online')
    this.stableTimer = window.setTimeout(() => (this.attempt = 0), STABLE_MS)
    // Unacknowledged sends go again with the same client_id: stored at most once.
    for (const [id, frame] of this.outbox) if (!this.held.has(id)) this.raw(frame)
    this.on.connected()
    if (this.lastVersion !== null) {
      const from = this.lastVersion
      this.resumeFallback = window.setTimeout(() => {
        if (!this.resumeSeen) this.raw({ type: 'resume', after_version: from, after: from })
      }, RESUME_FALLBACK_MS)
    } else {
      this.on.resumed()
    }
    this.pingTimer = window.setInterval(() => this.ping(), PING_EVERY_MS)
  }

  private closed(code: number): void {
    this.ws = null
    this.clearTimers()
    if (this.stopped) return
    const fatal = FATAL_CHAT_CLOSE[code]
    if (fatal) {
      this.stopped = true
      this.status.set('closed')
      this.on.fatal(code, fatal)
      return
    }
    this.status.set('offline')
    this.scheduleReconnect()
  }

  private ping(): void {
    if (!this.raw({ type: 'ping' })) return
    window.clearTimeout(this.pongTimer)
    // Old servers answer `ping` with an error frame, new ones with `pong`: either proves life.
    this.pongTimer = window.setTimeout(() => this.ws?.close(4000, 'no answer to ping'), PONG_WITHIN_MS)
  }

  private scheduleReconnect(): void {
    window.clearTimeout(this.retryTimer)
    const delay = reconnectDelay(this.attempt++)
    this.retryTimer = window.setTimeout(() => this.open(), delay)
  }

  private dispatch(f: Record<string, unknown>): void {
    const type = f.type
    switch (type) {
      case 'message.new':
      case 'message.edit':
      case 'message.delete':
      case 'message.reaction': {
        const m = f.message as Message | undefined
        if (!m || typeof m.id !== 'number') return
        if (typeof m.version_seq === 'number')
          this.lastVersion = Math.max(this.lastVersion ?? 0, m.version_seq)
        this.on.change(type, m)
        return
      }
      case 'message.ack':
        if (typeof f.client_id === 'string') {
          this.settle(f.client_id)
          this.on.ack(f.client_id, Number(f.seq), Number(f.id))
        }
        return
      case 'resume.partial':
      case 'resume.done': {
        this.resumeSeen = true
        window.clearTimeout(this.resumeFallback)
        const v = Number(f.after_version ?? f.after)
        if (Number.isFinite(v)) this.lastVersion = Math.max(this.lastVersion ?? 0, v)
        if (type === 'resume.partial') this.raw({ type: 'resume', after_version: v, after: v })
        else {
          this.attempt = 0
          this.on.resumed()
        }
        return
      }
      case 'typing':
        if (typeof f.user === 'string')
          this.on.typing(f.user, f.active !== false, typeof f.expires_in === 'number' ? f.expires_in : 6)
        return
      case 'read':
        if (typeof f.user === 'string' && typeof f.seq === 'number') this.on.read(f.user, f.seq)
        return
      case 'presence':
        if (Array.isArray(f.here)) this.on.presence(f.here as HereEntry[])
        return
      case 'room':
        if (f.room && typeof f.room === 'object') this.on.room(f.room as RoomFrame)
        return
      case 'error':
        this.on.error(f as unknown as ErrorFrame)
        return
      default:
        return
    }
  }
}
