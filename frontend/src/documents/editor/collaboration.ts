// One document's live connection: a Y.Doc synced over the stock y-websocket protocol, with our
// own jittered reconnects and close-code handling. Framework-free; React reads it through
// useSyncExternalStore (useCollaboration.ts).
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

import { reconnectDelay } from '../../shared/backoff'
import { FATAL_CLOSE, TRANSIENT_CLOSE, type Banner, type SyncStatus } from './closeCodes'

export function wsBase(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/docs`
}

export interface CollaborationState {
  status: SyncStatus
  banner: Banner | null
}

export class Collaboration {
  readonly ydoc = new Y.Doc()
  readonly provider: WebsocketProvider
  private state: CollaborationState = { status: 'connecting', banner: null }
  private listeners = new Set<() => void>()
  private socketStatus: SyncStatus = 'connecting'
  private attempt = 0
  private retryTimer: number | undefined
  private destroyed = false

  constructor(
    readonly documentId: string,
    WebSocketClass: typeof WebSocket = WebSocket,
  ) {
    this.provider = new WebsocketProvider(wsBase(), documentId, this.ydoc, {
      connect: false,
      WebSocketPolyfill: WebSocketClass,
      // Always through the server (which enforces permissions), never tab to tab.
      disableBc: true,
    })
    this.provider.on('status', ({ status }: { status: string }) => {
      this.socketStatus =
        status === 'connected' ? 'connected' : status === 'disconnected' ? 'disconnected' : 'connecting'
      this.publish()
    })
    this.provider.on('sync', (synced: boolean) => {
      if (synced) {
        this.attempt = 0
        if (this.state.banner?.kind === 'transient') this.state = { ...this.state, banner: null }
      }
      this.publish()
    })
    this.provider.on('connection-close', (event: CloseEvent | null) => this.onClose(event))
  }

  start(): void {
    this.provider.connect()
    this.publish()
  }

  getState = (): CollaborationState => this.state

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  destroy(): void {
    this.destroyed = true
    this.cancelRetry()
    this.provider.destroy()
    this.ydoc.destroy()
    this.listeners.clear()
  }

  private publish(): void {
    const fatal = this.state.banner?.kind === 'fatal'
    const status: SyncStatus = fatal
      ? 'disconnected'
      : this.socketStatus === 'connected' && this.provider.synced
        ? 'synced'
        : this.socketStatus
    if (status !== this.state.status) this.state = { ...this.state, status }
    for (const listener of this.listeners) listener()
  }

  // y-websocket 2.1.0 reconnects by itself with un-jittered exponential backoff
  // (closeWebsocketConnection → setTimeout(setupWS), and setupWS opens a socket only while
  // provider.shouldConnect is true). We take that over: on a non-fatal close we clear
  // shouldConnect inside the synchronous 'connection-close' emit, so the provider's timer is a
  // no-op, and call provider.connect() (which sets it again) from our own jittered timer. The
  // Y.Doc is kept throughout, so offline edits are sent after the next sync.
  private onClose(event: CloseEvent | null): void {
    if (this.destroyed || this.state.banner?.kind === 'fatal' || !this.provider.shouldConnect) return
    this.provider.shouldConnect = false
    const code = event?.code ?? 0 // null event: the provider's 30 s "no message" timeout
    const fatal = FATAL_CLOSE[code]
    if (fatal) {
      this.cancelRetry()
      this.state = { ...this.state, banner: { code, message: fatal, kind: 'fatal' } }
      this.publish()
      return
    }
    const transient = TRANSIENT_CLOSE[code]
    if (transient) {
      this.attempt = Math.max(this.attempt, transient.minAttempt)
      this.state = { ...this.state, banner: { code, message: transient.message, kind: 'transient' } }
    }
    this.socketStatus = 'disconnected'
    this.publish()
    this.scheduleReconnect()
  }

  private cancelRetry(): void {
    if (this.retryTimer !== undefined) window.clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  private scheduleReconnect(): void {
    this.cancelRetry()
    const delay = reconnectDelay(this.attempt)
    this.attempt++
    this.retryTimer = window.setTimeout(() => {
      this.retryTimer = undefined
      if (this.destroyed || this.state.banner?.kind === 'fatal') return
      try {
        this.provider.connect()
      } catch {
        // e.g. the WebSocket constructor threw: keep y-websocket's own loop off and retry later.
        this.provider.shouldConnect = false
        this.scheduleReconnect()
      }
    }, delay)
  }
}
