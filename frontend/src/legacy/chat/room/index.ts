// One open chat room. RoomView holds what every part reads (the room, membership, the
// socket, the messages) and wires the parts; each part lives in its own module here and
// reaches the others through the view.

import { h } from '../../dom'
import { chatApi, publicRoomList, roomLabel, type Room, type RoomKind } from '../api'
import type { RoomDirectory } from '../directory'
import type { MessageActions, Where } from '../message-el'
import { RoomSocket } from '../socket'
import { Composer } from './composer'
import { MessageEditor } from './editing'
import { RoomHeader } from './header'
import { HistoryPager } from './history'
import { LiveUpdates } from './live'
import { MembersPanel } from './members'
import { MessageList } from './message-list'
import { Notices, type NoticeKind, type NoticeOptions } from './notices'
import { Outbox } from './outbox'
import { SidePanel } from './panel'
import { Presence } from './presence'
import { ReadMarkers } from './read-markers'
import { RoomCommands } from './room-commands'
import { MessageStore } from './store'
import { ThreadPanel } from './thread'
import { Typing } from './typing'

export interface RoomContext {
  me: string
  directory: RoomDirectory
}

export class RoomView {
  readonly el: HTMLElement
  readonly me: string
  readonly directory: RoomDirectory
  /** From the room list; for a public room the caller has not joined, from the public list. */
  room: Room | null
  isMember: boolean
  archived: boolean
  /** Why the room cannot be shown (no access, no such room, signed out). */
  fatal: string | null = null
  destroyed = false
  /** Tests drop and resume the connection through `window.__chat.room.socket`. */
  socket: RoomSocket | null = null

  readonly store: MessageStore
  readonly notices = new Notices()
  readonly history: HistoryPager
  readonly readMarkers: ReadMarkers
  readonly list: MessageList
  readonly typing: Typing
  readonly presence: Presence
  readonly composer: Composer
  readonly outbox: Outbox
  readonly editor: MessageEditor
  readonly panel: SidePanel
  readonly thread: ThreadPanel
  readonly members: MembersPanel
  readonly head: RoomHeader
  readonly commands: RoomCommands
  private readonly live: LiveUpdates
  private readonly mainEl: HTMLElement
  private readonly onOnline = () => this.socket?.kick()

  constructor(
    readonly roomId: number,
    ctx: RoomContext,
  ) {
    this.me = ctx.me
    this.directory = ctx.directory
    this.room = ctx.directory.get(roomId) ?? null
    this.isMember = !!this.room
    this.archived = !!this.room?.archived

    this.store = new MessageStore(this.me, (p, m) => this.outbox.confirmed(p, m))
    this.history = new HistoryPager(this)
    this.readMarkers = new ReadMarkers(this)
    this.list = new MessageList(this) // after the history: the list starts with its top line
    this.typing = new Typing(this)
    this.presence = new Presence(this)
    this.composer = new Composer(this)
    this.outbox = new Outbox(this)
    this.editor = new MessageEditor(this)
    this.panel = new SidePanel(this)
    this.thread = new ThreadPanel(this)
    this.members = new MembersPanel(this)
    this.head = new RoomHeader(this, this.presence.el)
    this.commands = new RoomCommands(this)
    this.live = new LiveUpdates(this)

    this.mainEl = h(
      'section',
      { id: 'room-view', class: 'room-main', 'data-room-id': roomId, 'aria-labelledby': 'room-title' },
      this.head.el,
      this.head.banner,
      this.notices.el,
      this.list.scroller,
      this.typing.el,
      this.composer.joinBar,
      this.composer.form,
    )
    this.el = h('div', { class: 'chat-room' }, this.mainEl, this.panel.el)
    this.renderHead()
    window.addEventListener('online', this.onOnline)
    const activity = () => this.presence.active()
    for (const ev of ['keydown', 'pointerdown', 'wheel']) this.el.addEventListener(ev, activity, { passive: true })
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    // Where the "New messages" line goes: read that before the room's badge is cleared.
    this.readMarkers.rememberUnread(this.room)
    this.directory.setActive(this.roomId)
    if (!(await this.history.loadLatest())) return
    if (!this.room) void this.lookUpPublicRoom()
    await this.history.loadBackToUnread(this.readMarkers.unreadFrom)
    if (this.destroyed) return
    this.list.layout()
    this.list.initialScroll()
    this.list.el.removeAttribute('aria-busy')
    this.openSocket(this.store.highestVersion())
    this.composer.updateState()
    if (this.isMember && !this.archived) this.composer.input.focus({ preventScroll: true })
    void this.history.fillViewport()
  }

  destroy(): void {
    this.destroyed = true
    this.socket?.stop()
    this.directory.setActive(null)
    this.typing.destroy()
    this.members.stop()
    this.readMarkers.destroy()
    this.list.destroy()
    this.head.destroy()
    window.removeEventListener('online', this.onOnline)
    const w = window as unknown as { __chat?: { room?: RoomView } }
    if (w.__chat?.room === this) delete w.__chat.room
  }

  /** Called before the shell is detached from the page (the router swaps containers). */
  saveScroll(): void {
    this.list.saveScroll()
  }

  restoreScroll(): void {
    this.list.restoreScroll()
  }

  focusComposer(): void {
    this.composer.focus()
  }

  /** The directory changed (e.g. renamed, archived, joined, left). */
  roomChanged(): void {
    const r = this.directory.get(this.roomId)
    if (r) {
      this.room = { ...(this.room ?? r), ...r }
      this.isMember = true
      this.archived = !!r.archived
    } else if (this.directory.loaded && this.isMember && !this.directory.error) {
      this.isMember = false // left or removed
    }
    this.renderHead()
    this.composer.updateState()
  }

  /** Scroll to (and highlight) the message numbered `seq`, loading older pages if needed. */
  async reveal(seq: number): Promise<void> {
    await this.history.loadBackTo(seq)
    if (this.destroyed) return
    const m = this.store.findBySeq(seq)
    if (!m) {
      this.notice('That message is too far back to show here.', 'info', { code: 'reveal' })
      return
    }
    if (m.parent_id !== null) {
      this.panel.toggle({ kind: 'thread', parentId: m.parent_id }, true)
      this.thread.reveal(m)
    } else this.list.reveal(m)
  }

  notice(text: string, kind: NoticeKind = 'info', opts: NoticeOptions = {}): void {
    this.notices.show(text, kind, opts)
  }

  /** For tests and debugging. */
  debugState(): Record<string, unknown> {
    return {
      roomId: this.roomId,
      order: this.store.order.map((id) => this.store.get(id)?.seq),
      pending: [...this.store.pending.keys()],
      lastVersion: this.socket?.lastVersion,
      status: this.socket?.status,
      hasMoreBefore: this.history.hasMoreBefore,
    }
  }

  // ---------------------------------------------------------------- shared by the parts

  get kind(): RoomKind {
    return this.room?.kind ?? 'public'
  }

  title(): string {
    return this.room ? roomLabel(this.room, this.me) : `Room ${this.roomId}`
  }

  canPost(): boolean {
    return this.isMember && !this.archived && !this.fatal
  }

  renderHead(): void {
    this.head.render()
    this.mainEl.dataset.kind = this.kind
    this.mainEl.dataset.archived = String(this.archived)
    const title = this.title()
    this.composer.input.placeholder = `Message ${this.kind === 'direct' ? title : '#' + title}`
    this.history.relabel()
  }

  showFatal(msg: string): void {
    this.list.el.removeAttribute('aria-busy')
    this.fatal = msg
    this.history.setState('none')
    this.renderHead()
    this.composer.updateState()
    this.head.setStatus('closed')
  }

  applyRoomUpdate(patch: { name?: string; archived?: boolean; kind?: string }): void {
    if (this.room) {
      if (typeof patch.name === 'string') this.room.name = patch.name
      if (typeof patch.archived === 'boolean') this.room.archived = patch.archived
    }
    if (typeof patch.archived === 'boolean') this.archived = patch.archived
    this.renderHead()
    this.composer.updateState()
  }

  restartSocket(): void {
    if (!this.socket) return
    const version = this.socket.lastVersion
    this.socket.stop()
    this.openSocket(version)
  }

  private openSocket(version: number | null): void {
    this.socket = new RoomSocket(this.roomId, version, this.live.handlers())
    this.socket.start()
  }

  /** What the buttons of a message do; `where` says which list the message is shown in. */
  messageActions(where: Where): MessageActions {
    return {
      me: this.me,
      reactions: () => this.store.reactionsSeen,
      canDelete: (m) => !m.deleted && (m.author === this.me || this.room?.role === 'owner') && this.isMember && !this.archived,
      canPost: () => this.canPost(),
      replyCount: (m) => (typeof m.reply_count === 'number' ? m.reply_count : this.store.liveReplies(m.id)),
      react: (m, emoji, add) => {
        if (!this.socket?.send({ type: add ? 'reaction.add' : 'reaction.remove', id: m.id, emoji })) this.notifyOffline()
      },
      openThread: (m) => this.panel.toggle({ kind: 'thread', parentId: m.id }, true),
      edit: (m) => this.editor.start(m, where),
      remove: (m) => void this.editor.delete(m),
      retry: (p) => this.outbox.retry(p),
      discard: (p) => this.outbox.discard(p),
    }
  }

  notifyOffline(): void {
    this.notice('Not connected right now; try again in a moment.', 'warn', { code: 'offline' })
  }

  /** A public room the caller has not joined is not in the room list: find its name. */
  private async lookUpPublicRoom(): Promise<void> {
    try {
      const r = publicRoomList(await chatApi.publicRooms()).find((x) => x.id === this.roomId)
      if (r && !this.room && !this.destroyed) {
        this.room = { id: r.id, name: r.name, kind: r.kind, last_seq: r.last_seq ?? 0, last_version: 0, unread: 0, archived: r.archived }
        this.archived = !!r.archived
        this.renderHead()
        this.composer.updateState()
      }
    } catch {
      // older servers: the room shows as "Room N"
    }
  }
}
