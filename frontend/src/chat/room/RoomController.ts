// One open room, without React: the messages, the room socket, history paging, typing,
// presence, read markers, my sends (outbox), edits, notices and the side panel. Components
// read its stores with useStore; the room's REST metadata (name, membership) stays in the
// TanStack Query cache and comes in through setAccess().
import { chatApi, missing, type HereEntry, type Message, type Room } from '../api'
import type { Inbox } from '../inbox/Inbox'
import { Store } from '../lib/store'
import { MessageStore } from '../messages/MessageStore'
import {
  RoomSocket,
  type ErrorFrame,
  type RoomFrame,
  type RoomSocketHandlers,
  type SocketStatus,
} from '../socket/RoomSocket'
import { Edits, type Where } from './Edits'
import { ERROR_TEXT, errText, retryAfter } from './errors'
import { History } from './History'
import { Notices, type NoticeKind, type NoticeOptions } from './Notices'
import { Outbox } from './Outbox'
import { ReadMarkers } from './ReadMarkers'
import { Typing } from './Typing'

const MAX_THREAD_PAGES = 10

export type PanelContent = { kind: 'thread'; parentId: number } | { kind: 'members' } | null

export interface RevealRequest {
  id: number
  where: Where
  n: number
}

export interface RoomEnv {
  me: string
  inbox: Pick<Inbox, 'setActive' | 'noteActivity' | 'markRead' | 'refresh'>
  /** The server renamed or (un)archived the room: update the cached room lists. */
  patchRoom(patch: RoomFrame): void
  api?: typeof chatApi
  Socket?: new (url: string) => WebSocket
}

export interface Access {
  isMember: boolean
  canPost: boolean
}

export class RoomController {
  readonly me: string
  readonly store: MessageStore
  /** The room socket; tests drop and resume it through `window.__chat.room.socket`. */
  socket: RoomSocket | null = null
  readonly status = new Store<SocketStatus>('connecting')
  /** Why the room cannot be shown (no access, no such room, signed out). */
  readonly fatalText = new Store<string | null>(null)
  readonly ready = new Store(false)
  readonly history: History
  readonly typing: Typing
  readonly here = new Store<readonly HereEntry[]>([])
  readonly notices = new Notices()
  readonly panel = new Store<PanelContent>(null)
  readonly edits: Edits
  private readonly outbox: Outbox
  private readonly markers: ReadMarkers
  /** The room's last_read_seq when it was opened: "New messages" goes above the first one after it. */
  readonly unreadFrom = new Store<number | null>(null)
  readonly reveal = new Store<RevealRequest | null>(null)
  /** The message whose deletion waits for a confirmation. */
  readonly deleting = new Store<Message | null>(null)
  destroyed = false
  private access: Access = { isMember: false, canPost: false }
  private readonly api: typeof chatApi
  private revealCount = 0
  private runs = 0
  private unsubscribeStatus: (() => void) | null = null

  constructor(
    readonly roomId: number,
    private readonly env: RoomEnv,
  ) {
    this.me = env.me
    this.api = env.api ?? chatApi
    this.store = new MessageStore(this.me, (_p, m) => this.socket?.settle(m.client_id))
    this.history = new History(this, this.api)
    const send = (frame: Record<string, unknown>) => this.socket?.send(frame) ?? false
    this.typing = new Typing(this.me, send, () => this.access.canPost)
    this.edits = new Edits(this.me, send, () => this.notifyOffline())
    const socket = () => this.socket
    this.outbox = new Outbox(this.store, socket, (text, opts) => this.notice(text, 'warn', opts))
    this.markers = new ReadMarkers(
      socket,
      (seq) => this.env.inbox.markRead(this.roomId, seq),
      () => this.store.get().maxSeq,
      () => this.access.isMember && !this.destroyed,
    )
  }

  get isFatal(): boolean {
    return this.fatalText.get() !== null
  }

  setAccess(access: Access): void {
    this.access = access
  }

  // ------------------------------------------------------------ lifecycle

  /** Load the newest messages (and back to the first unread one), then connect. */
  async start(room: Room | null): Promise<void> {
    // Where the "New messages" line goes: read that before the room's badge is cleared.
    const unreadFrom =
      room && room.unread > 0 && typeof room.last_read_seq === 'number' ? room.last_read_seq : null
    // React's strict mode starts, stops and starts again: only the latest start goes on.
    const run = ++this.runs
    this.destroyed = false
    this.unreadFrom.set(unreadFrom)
    this.markers.reset(room?.last_read_seq ?? 0)
    this.env.inbox.setActive(this.roomId)
    if (!(await this.history.loadLatest()) || !this.current(run)) return
    if (!this.current(run)) return
    await this.history.loadBackToUnread(unreadFrom)
    if (!this.current(run)) return
    this.ready.set(true)
    this.openSocket(this.store.highestVersion())
    window.addEventListener('online', this.onOnline)
    window.addEventListener('focus', this.scheduleRead)
    document.addEventListener('visibilitychange', this.scheduleRead)
  }

  private current(run: number): boolean {
    return run === this.runs && !this.destroyed
  }

  destroy(): void {
    this.destroyed = true
    this.socket?.stop()
    this.unsubscribeStatus?.()
    this.env.inbox.setActive(null)
    this.typing.destroy()
    this.notices.destroy()
    this.edits.destroy()
    this.markers.destroy()
    window.removeEventListener('online', this.onOnline)
    window.removeEventListener('focus', this.scheduleRead)
    document.removeEventListener('visibilitychange', this.scheduleRead)
  }

  /** The socket decided membership when it connected: reconnect (after joining). */
  restartSocket(): void {
    if (!this.socket) return
    const version = this.socket.lastVersion
    this.socket.stop()
    this.openSocket(version)
  }

  private readonly onOnline = () => this.socket?.kick()

  private openSocket(version: number | null): void {
    this.unsubscribeStatus?.()
    const socket = new RoomSocket(this.roomId, version, this.handlers(), this.env.Socket)
    this.socket = socket
    this.unsubscribeStatus = socket.status.subscribe(() => this.statusChanged(socket.status.get()))
    this.statusChanged(socket.status.get())
    socket.start()
  }

  private statusChanged(s: SocketStatus): void {
    this.status.set(s)
    if (s !== 'online') this.typing.clearOthers()
  }

  fatal(text: string): void {
    this.fatalText.set(text)
    this.history.state.set('none')
    this.status.set('closed')
  }

  notice(text: string, kind: NoticeKind = 'info', opts: NoticeOptions = {}): void {
    this.notices.show(text, kind, opts)
  }

  notifyOffline(): void {
    this.notice('Not connected right now; try again in a moment.', 'warn', { code: 'offline' })
  }

  send(frame: Record<string, unknown>): boolean {
    if (this.socket?.send(frame)) return true
    this.notifyOffline()
    return false
  }

  // ------------------------------------------------------------ my sends (the outbox)

  /** Send a message (or a reply): shown as pending until the server stores it. */
  post(body: string, parentId: number | null): void {
    this.outbox.post(body, parentId)
    this.typing.stop()
    if (parentId === null) this.unreadFrom.set(null) // the line has served its purpose
    this.presenceActive()
  }

  retry(clientId: string): void {
    this.outbox.retry(clientId)
  }

  discard(clientId: string): void {
    this.outbox.discard(clientId)
  }

  // ------------------------------------------------------------ what the socket reports

  private handlers(): RoomSocketHandlers {
    return {
      change: (_kind, m) => this.applyChange(m),
      ack: (clientId, seq, id) => this.outbox.acked(clientId, seq, id),
      error: (f) => this.onError(f),
      typing: (user, active, expiresIn) => this.typing.show(user, active, expiresIn),
      read: (user, seq) => {
        if (user === this.me) this.markers.readByMe(seq)
      },
      presence: (here) => this.here.set(here.filter((x) => typeof x.user === 'string')),
      room: (r) => {
        this.env.patchRoom(r)
        void this.env.inbox.refresh()
      },
      connected: () => this.markers.connected(),
      resumed: () => this.scheduleRead(),
      fatal: (code, msg) => {
        if (code === 4403) void this.env.inbox.refresh()
        this.fatal(code === 4401 ? `${msg} Sign in again to keep chatting.` : msg)
      },
    }
  }

  private applyChange(m: Message): void {
    const wasNew = !this.store.has(m.id)
    if (!this.store.put(m, true)) return
    if (wasNew) this.env.inbox.noteActivity(this.roomId, m.seq, m.author)
    this.edits.changed(m)
    this.scheduleRead()
  }

  private onError(f: ErrorFrame): void {
    if (f.code === 'unknown_type') return // an older server: the feature is not there yet
    if (this.outbox.refused(f)) return
    this.edits.refused()
    if (f.code === 'rate_limited') {
      this.notice('Slow down.', 'warn', { code: 'rate_limited', until: Date.now() + retryAfter(f) * 1000 })
      return
    }
    if (f.code === 'archived') this.env.patchRoom({ id: this.roomId, archived: true })
    if (f.code === 'not_member') void this.env.inbox.refresh()
    this.notice(ERROR_TEXT[f.code] ?? f.message ?? f.code, 'error', { code: f.code })
  }

  // ------------------------------------------------------------ presence and read markers

  /** The user did something here: `presence` `active`, at most every 30 s. */
  presenceActive(): void {
    this.markers.presenceActive()
  }

  readonly scheduleRead = (): void => this.markers.schedule()

  /** The list tells which seq the reader can see (for read markers). */
  setVisibleSeq(fn: () => number): void {
    this.markers.visibleSeq = fn
  }

  // ------------------------------------------------------------ messages, threads, panel

  deleteMessage(m: Message): void {
    this.send({ type: 'message.delete', id: m.id })
  }

  /** Show `content`; showing what is already shown closes the panel, unless `force`. */
  togglePanel(content: PanelContent, force = false): void {
    const same = JSON.stringify(content) === JSON.stringify(this.panel.get())
    const next = same && !force ? null : content
    this.panel.set(next)
    if (next?.kind === 'thread' && !same) void this.loadThread(next.parentId)
  }

  /** All pages of a thread; without the thread endpoint the panel shows the replies seen here. */
  async loadThread(parentId: number): Promise<void> {
    try {
      let after: number | undefined
      for (let i = 0; i < MAX_THREAD_PAGES; i++) {
        const page = await this.api.thread(this.roomId, parentId, after)
        if (this.destroyed) return
        this.store.batch(() => {
          this.store.put(page.parent, false)
          for (const r of page.replies) this.store.put(r, false)
        })
        const last = page.replies.at(-1)
        if (!page.has_more || !last) {
          if (after === undefined)
            this.store.patch(parentId, { reply_count: page.replies.filter((r) => !r.deleted).length })
          break
        }
        after = last.seq
      }
    } catch (e) {
      if (!missing(e)) this.notice(`Could not load the thread: ${errText(e)}`, 'error', { code: 'thread' })
    }
  }

  /** Scroll to (and highlight) message number `seq`, loading older pages if needed. */
  async revealSeq(seq: number): Promise<void> {
    await this.history.loadBackTo(seq)
    if (this.destroyed) return
    const m = this.store.findBySeq(seq)
    if (!m) {
      this.notice('That message is too far back to show here.', 'info', { code: 'reveal' })
      return
    }
    if (m.parent_id !== null) {
      this.togglePanel({ kind: 'thread', parentId: m.parent_id }, true)
      this.reveal.set({ id: m.id, where: 'thread', n: ++this.revealCount })
    } else this.reveal.set({ id: m.id, where: 'main', n: ++this.revealCount })
  }
}
