// One open chat room: history (infinite scroll back), the live socket, the composer,
// threads, reactions, typing, read markers, presence and the member list.

import { ApiError } from '../api'
import { avatar } from '../avatar'
import { icon } from '../icons'
import { clear, h } from '../dom'
import { navigate } from '../router'
import { chatApi, missing, roomLabel, type Message, type PresenceStatus, type Room, type RoomMember } from './api'
import { confirmDialog, openDialog } from './dialogs'
import type { RoomDirectory } from './directory'
import { charCount, dayKey, dayLabel, formatNumber, listNames, minutesBetween } from './format'
import { fillMessage, fillPending, type MessageActions, type Pending, type Where } from './message-el'
import { plainText } from './markup'
import { newClientId, RoomSocket, type ErrorFrame, type SocketStatus } from './socket'

export const MAX_BODY = 10_000
const COUNTER_FROM = 9_000
const PAGE = 50
const TYPING_EVERY_MS = 3_000
const PRESENCE_EVERY_MS = 30_000
const GROUP_MINUTES = 5
const AT_BOTTOM_PX = 48
const LOAD_OLDER_PX = 300

const ERROR_TEXT: Record<string, string> = {
  too_long: `Messages can be at most ${formatNumber(MAX_BODY)} characters.`,
  empty_body: 'A message cannot be empty.',
  not_member: 'Join the room to post.',
  archived: 'This room is archived: it is read-only.',
  forbidden: 'You are not allowed to do that.',
  not_found: 'That message no longer exists.',
  unknown_parent: 'The message you replied to no longer exists.',
  deleted: 'That message was deleted.',
  invalid_emoji: 'That reaction is not allowed.',
  invalid_client_id: 'The message could not be sent (bad client id).',
}

export interface RoomContext {
  me: string
  directory: RoomDirectory
}

interface TypingEntry {
  timer: number
}

type Panel = { kind: 'thread'; parentId: number } | { kind: 'members' } | null

export class RoomView {
  readonly el: HTMLElement
  private room: Room | null
  private readonly me: string
  private socket: RoomSocket | null = null
  private destroyed = false

  // ---- message state
  private messages = new Map<number, Message>()
  private order: number[] = [] // top-level message ids by seq
  private repliesOf = new Map<number, Set<number>>()
  private pending = new Map<string, Pending>()
  private mainEls = new Map<string, HTMLElement>() // 'm:<id>' | 'p:<client_id>'
  private dayEls = new Map<string, HTMLElement>()
  private oldestSeq: number | null = null
  private hasMoreBefore = true
  private loadingOlder = false
  private reactionsSeen = false
  private unreadFrom: number | null = null // last_read_seq when the room was opened
  private readSent = 0
  private maxSeq = 0
  private missedWhileUp = 0
  private fatal: string | null = null
  private isMember = false
  private archived = false

  // ---- live extras
  private typing = new Map<string, TypingEntry>()
  private here: { user: string; status: PresenceStatus }[] = []
  private online = new Map<string, PresenceStatus>()
  private members: RoomMember[] | null = null
  private lastTypingSent = 0
  private typingActive = false
  private lastPresenceSent = 0
  private panel: Panel = null
  private editing: { id: number; el: HTMLElement; version: number; saving: boolean; finish: () => void; fail: () => void } | null = null
  private onlineTimer: number | undefined
  private readTimer: number | undefined
  private savedScroll: number | null = null
  private stuck = true // the view follows new messages (it was at the bottom)
  private resizeObserver: ResizeObserver | null = null

  // ---- DOM
  private titleEl = h('h1', { id: 'room-title', class: 'room-title' })
  private kindEl = h('span', { id: 'room-kind', class: 'room-kind' })
  private hereEl = h('div', { id: 'room-here', class: 'room-here', role: 'group', 'aria-label': 'In this room now' })
  private statusEl = h('span', { id: 'chat-status', class: 'status', 'data-status': 'connecting', role: 'status' }, 'connecting')
  private menuBtn = h('button', {
    id: 'room-menu-btn', type: 'button', class: 'icon-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    'aria-label': 'Room options', title: 'Room options',
  }, icon('more'))
  private membersBtn = h('button', { id: 'members-btn', type: 'button', class: 'icon-button', 'aria-label': 'Members', title: 'Members', 'aria-pressed': 'false' }, icon('users'))
  private banner = h('div', { id: 'room-banner', class: 'room-banner', hidden: true })
  private notices = h('div', { id: 'chat-notices', class: 'notices', role: 'status', 'aria-live': 'polite' })
  private list = h('div', {
    id: 'message-list', class: 'message-list', role: 'log', 'aria-label': 'Messages', 'aria-live': 'polite',
    'aria-relevant': 'additions', tabindex: 0,
  })
  private historyTop = h('div', { id: 'history-top', class: 'history-top', 'data-state': 'more' })
  private unreadDivider = h('div', { id: 'unread-divider', class: 'unread-divider', role: 'separator' }, h('span', {}, 'New messages'))
  private jump = h('button', { id: 'jump-latest', type: 'button', class: 'jump-latest', hidden: true }, 'New messages ↓')
  private typingEl = h('div', { id: 'typing-indicator', class: 'typing-indicator', 'aria-live': 'polite' })
  private input = h('textarea', {
    id: 'composer-input', class: 'composer-input', rows: 1, 'aria-label': 'Message', autocomplete: 'off',
    enterkeyhint: 'send',
  })
  private sendBtn = h('button', { id: 'send', type: 'submit', class: 'primary send', 'aria-label': 'Send message', title: 'Send (Enter)' }, 'Send')
  private counter = h('span', { id: 'composer-counter', class: 'composer-counter', 'aria-live': 'polite', hidden: true })
  private composer = h('form', { id: 'composer', class: 'composer' })
  private joinBar = h('div', { id: 'join-bar', class: 'join-bar', hidden: true })
  private panelEl = h('aside', { id: 'chat-panel', class: 'chat-panel', hidden: true })
  private mainEl: HTMLElement

  // thread panel pieces (rebuilt per thread)
  private threadEls = new Map<string, HTMLElement>()
  private threadList: HTMLElement | null = null
  private threadParentEl: HTMLElement | null = null
  private threadInput: HTMLTextAreaElement | null = null
  private threadCounter: HTMLElement | null = null
  private threadSend: HTMLButtonElement | null = null
  private threadCount = h('div', { class: 'thread-count muted', id: 'thread-count' })

  constructor(
    readonly roomId: number,
    private readonly ctx: RoomContext,
  ) {
    this.me = ctx.me
    this.room = ctx.directory.get(roomId) ?? null
    this.isMember = !!this.room
    this.archived = !!this.room?.archived

    this.composer.append(
      h('div', { class: 'composer-box' }, this.input, h('div', { class: 'composer-side' }, this.counter, this.sendBtn)),
      h('div', { class: 'composer-hint muted', id: 'composer-hint' }, h('kbd', {}, 'Enter'), ' to send, ', h('kbd', {}, 'Shift'), '+', h('kbd', {}, 'Enter'), ' for a new line · **bold** *italic* `code` ~~strike~~ > quote'),
    )
    this.input.setAttribute('aria-describedby', 'composer-hint')
    this.list.append(this.historyTop)

    this.mainEl = h(
      'section',
      { id: 'room-view', class: 'room-main', 'data-room-id': roomId, 'aria-labelledby': 'room-title' },
      h(
        'header',
        { class: 'room-head' },
        this.kindEl,
        this.titleEl,
        h('span', { class: 'spacer' }),
        this.hereEl,
        this.statusEl,
        this.membersBtn,
        this.menuBtn,
      ),
      this.banner,
      this.notices,
      h('div', { class: 'message-scroller' }, this.list, this.jump),
      this.typingEl,
      this.joinBar,
      this.composer,
    )
    this.el = h('div', { class: 'chat-room' }, this.mainEl, this.panelEl)
    this.renderHead()
    this.wire()
  }

  // ====================================================================== lifecycle

  async start(): Promise<void> {
    // Where the "New messages" line goes: read that before the room's badge is cleared.
    this.unreadFrom =
      this.room && (this.room.unread ?? 0) > 0 && typeof this.room.last_read_seq === 'number' ? this.room.last_read_seq : null
    this.readSent = this.room?.last_read_seq ?? 0
    this.ctx.directory.setActive(this.roomId)
    this.setHistoryState('loading')
    this.list.setAttribute('aria-busy', 'true') // no announcing the history as it loads
    let page
    try {
      page = await chatApi.messages(this.roomId, { limit: PAGE })
    } catch (e) {
      if (this.destroyed) return
      this.showFatal(e instanceof ApiError && e.status === 403 ? 'This room is private.' : e instanceof ApiError && e.status === 404 ? 'This room does not exist.' : e instanceof ApiError ? e.message : String(e))
      return
    }
    if (this.destroyed) return
    if (!this.room) void this.lookUpPublicRoom()
    this.addPage(page.messages, page.has_more)
    // Make sure the first unread message is loaded (up to a few pages back).
    for (let i = 0; i < 3 && this.unreadFrom !== null && this.hasMoreBefore && (this.oldestSeq ?? 0) > this.unreadFrom + 1; i++) {
      const older = await chatApi.messages(this.roomId, { before: this.oldestSeq ?? undefined, limit: PAGE }).catch(() => null)
      if (!older || this.destroyed) break
      this.addPage(older.messages, older.has_more)
    }
    if (this.destroyed) return
    this.layout()
    this.initialScroll()
    this.list.removeAttribute('aria-busy')
    let version = 0
    for (const m of this.messages.values()) version = Math.max(version, m.version_seq)
    this.socket = new RoomSocket(this.roomId, version, this.socketHandlers())
    this.socket.start()
    this.updateComposerState()
    if (this.isMember && !this.archived) this.input.focus({ preventScroll: true })
    void this.fillViewport()
  }

  destroy(): void {
    this.destroyed = true
    this.socket?.stop()
    this.ctx.directory.setActive(null)
    for (const t of this.typing.values()) window.clearTimeout(t.timer)
    window.clearInterval(this.onlineTimer)
    window.clearTimeout(this.readTimer)
    this.resizeObserver?.disconnect()
    window.removeEventListener('focus', this.onWindowFocus)
    document.removeEventListener('visibilitychange', this.onWindowFocus)
    window.removeEventListener('online', this.onOnline)
    document.removeEventListener('pointerdown', this.closeMenuOutside, true)
    const w = window as unknown as { __chat?: { room?: RoomView } }
    if (w.__chat?.room === this) delete w.__chat.room
  }

  /** Called before the shell is detached from the page (the router swaps containers). */
  saveScroll(): void {
    this.savedScroll = this.list.scrollTop
  }

  restoreScroll(): void {
    if (this.savedScroll !== null) this.list.scrollTop = this.savedScroll
    this.savedScroll = null
  }

  focusComposer(): void {
    if (!this.input.disabled) this.input.focus({ preventScroll: true })
  }

  /** The directory changed (e.g. renamed, archived, joined, left). */
  roomChanged(): void {
    const r = this.ctx.directory.get(this.roomId)
    if (r) {
      this.room = { ...(this.room ?? r), ...r }
      this.isMember = true
      this.archived = !!r.archived
    } else if (this.ctx.directory.loaded && this.isMember && !this.ctx.directory.error) {
      this.isMember = false // left or removed
    }
    this.renderHead()
    this.updateComposerState()
  }

  private async lookUpPublicRoom(): Promise<void> {
    try {
      const data = await chatApi.publicRooms()
      const list = Array.isArray(data) ? data : data.rooms
      const r = list?.find((x) => x.id === this.roomId)
      if (r && !this.room && !this.destroyed) {
        this.room = { id: r.id, name: r.name, kind: r.kind, last_seq: r.last_seq ?? 0, last_version: 0, unread: 0, archived: r.archived }
        this.archived = !!r.archived
        this.renderHead()
        this.updateComposerState()
      }
    } catch {
      // older servers: the room shows as "Room N"
    }
  }

  // ====================================================================== header, menu, banners

  private renderHead(): void {
    const r = this.room
    const label = r ? roomLabel(r, this.me) : `Room ${this.roomId}`
    this.titleEl.textContent = label
    const kind = r?.kind ?? 'public'
    this.kindEl.replaceChildren(icon(kind === 'private' ? 'lock' : kind === 'direct' ? 'message' : 'hash'))
    this.kindEl.setAttribute('role', 'img')
    this.kindEl.setAttribute('aria-label', kind === 'private' ? 'Private room' : kind === 'direct' ? 'Direct message' : 'Public room')
    this.kindEl.dataset.kind = kind
    this.mainEl.dataset.kind = kind
    this.mainEl.dataset.archived = String(this.archived)
    document.title = `${kind === 'direct' ? '' : '#'}${label} · Chat · Collab`
    this.input.placeholder = `Message ${kind === 'direct' ? label : '#' + label}`
    if (this.historyTop.dataset.state === 'start') this.setHistoryState('start') // the room's name in it
    clear(this.banner)
    this.banner.hidden = true
    if (this.fatal) {
      this.banner.hidden = false
      this.banner.className = 'room-banner banner banner-error'
      this.banner.setAttribute('role', 'alert')
      this.banner.append(this.fatal, ' ', h('a', { href: '/chat', 'data-link': true }, 'Back to your rooms'))
    } else if (this.archived) {
      this.banner.hidden = false
      this.banner.className = 'room-banner banner banner-info'
      this.banner.append('This room is archived: you can read it, but not post.')
      if (this.room?.role === 'owner') {
        this.banner.append(' ', h('button', { type: 'button', class: 'link-button', id: 'unarchive', onclick: () => void this.setArchived(false) }, 'Unarchive'))
      }
    }
  }

  private showFatal(msg: string): void {
    this.list.removeAttribute('aria-busy')
    this.fatal = msg
    this.setHistoryState('none')
    this.renderHead()
    this.updateComposerState()
    this.setStatus('closed')
  }

  private menu: HTMLElement | null = null
  private closeMenuOutside = (ev: Event) => {
    if (this.menu && !this.menu.contains(ev.target as Node) && ev.target !== this.menuBtn) this.closeMenu()
  }

  private closeMenu(focusButton = false): void {
    this.menu?.remove()
    this.menu = null
    this.menuBtn.setAttribute('aria-expanded', 'false')
    document.removeEventListener('pointerdown', this.closeMenuOutside, true)
    if (focusButton) this.menuBtn.focus()
  }

  private openMenu(): void {
    if (this.menu) return this.closeMenu()
    const items: [string, string, () => void][] = []
    items.push(['members', 'Members', () => this.togglePanel({ kind: 'members' })])
    const owner = this.room?.role === 'owner'
    if (owner && this.room?.kind !== 'direct') {
      items.push(['rename', 'Rename room…', () => this.renameDialog()])
      items.push(this.archived ? ['unarchive', 'Unarchive room', () => void this.setArchived(false)] : ['archive', 'Archive room', () => void this.setArchived(true)])
    }
    if (this.isMember) items.push(['leave', this.room?.kind === 'direct' ? 'Leave conversation' : 'Leave room', () => void this.leave()])
    else if (this.room?.kind !== 'private' && this.room?.kind !== 'direct') items.push(['join', 'Join room', () => void this.join()])
    const menu = h('ul', { id: 'room-menu', class: 'menu', role: 'menu', 'aria-label': 'Room options' })
    for (const [id, label, fn] of items) {
      const b = h('button', { type: 'button', role: 'menuitem', 'data-action': id, tabindex: -1 }, label)
      b.addEventListener('click', () => {
        this.closeMenu()
        fn()
      })
      menu.append(h('li', { role: 'none' }, b))
    }
    menu.addEventListener('keydown', (ev) => {
      const buttons = [...menu.querySelectorAll<HTMLButtonElement>('button')]
      const i = buttons.indexOf(document.activeElement as HTMLButtonElement)
      if (ev.key === 'Escape') {
        ev.preventDefault()
        this.closeMenu(true)
      } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault()
        const next = (i + (ev.key === 'ArrowDown' ? 1 : -1) + buttons.length) % buttons.length
        buttons[next]?.focus()
      } else if (ev.key === 'Tab') this.closeMenu()
    })
    this.menuBtn.after(menu)
    this.menu = menu
    this.menuBtn.setAttribute('aria-expanded', 'true')
    document.addEventListener('pointerdown', this.closeMenuOutside, true)
    menu.querySelector<HTMLButtonElement>('button')?.focus()
  }

  private renameDialog(): void {
    const input = h('input', { id: 'rename-input', type: 'text', maxlength: 200, required: true, value: this.room?.name ?? '', 'aria-label': 'Room name' })
    openDialog({
      id: 'rename-dialog',
      title: 'Rename room',
      body: [h('label', { for: 'rename-input' }, 'Name'), input],
      submitLabel: 'Rename',
      onSubmit: async () => {
        const name = input.value.trim()
        if (!name) throw new Error('Please enter a name.')
        try {
          const r = await chatApi.updateRoom(this.roomId, { name })
          this.applyRoomUpdate({ name: r?.name ?? name })
          void this.ctx.directory.refresh()
        } catch (e) {
          if (missing(e)) throw new Error('Renaming rooms is not available on this server yet.')
          throw e
        }
      },
    })
    input.select()
  }

  private async setArchived(archived: boolean): Promise<void> {
    if (archived && !(await confirmDialog('archive-dialog', 'Archive room?', 'Nobody can post in an archived room. You can unarchive it later.', 'Archive'))) return
    try {
      await chatApi.updateRoom(this.roomId, { archived })
      this.applyRoomUpdate({ archived })
      void this.ctx.directory.refresh()
    } catch (e) {
      this.notice(missing(e) ? 'Archiving is not available on this server yet.' : errText(e), 'error')
    }
  }

  private async leave(): Promise<void> {
    const label = this.room ? roomLabel(this.room, this.me) : `room ${this.roomId}`
    if (!(await confirmDialog('leave-dialog', 'Leave room?', `Leave ${label}? You can rejoin public rooms at any time.`, 'Leave'))) return
    try {
      await chatApi.leave(this.roomId)
      this.ctx.directory.remove(this.roomId)
      navigate('/chat')
    } catch (e) {
      this.notice(missing(e) ? 'Leaving rooms is not available on this server yet.' : errText(e), 'error')
    }
  }

  private async join(): Promise<void> {
    try {
      await chatApi.join(this.roomId)
      this.isMember = true
      await this.ctx.directory.refresh()
      this.roomChanged()
      // The socket decided membership when it connected: reconnect so posting works.
      this.restartSocket()
      this.input.focus()
    } catch (e) {
      this.notice(errText(e), 'error')
    }
  }

  private restartSocket(): void {
    if (!this.socket) return
    const version = this.socket.lastVersion
    this.socket.stop()
    this.socket = new RoomSocket(this.roomId, version, this.socketHandlers())
    this.socket.start()
  }

  private applyRoomUpdate(patch: { name?: string; archived?: boolean; kind?: string }): void {
    if (this.room) {
      if (typeof patch.name === 'string') this.room.name = patch.name
      if (typeof patch.archived === 'boolean') this.room.archived = patch.archived
    }
    if (typeof patch.archived === 'boolean') this.archived = patch.archived
    this.renderHead()
    this.updateComposerState()
  }

  private updateComposerState(): void {
    const canPost = this.canPost()
    this.composer.hidden = !canPost
    this.input.disabled = !canPost
    clear(this.joinBar)
    this.joinBar.hidden = true
    if (this.fatal) return
    if (!this.isMember && !this.archived) {
      this.joinBar.hidden = false
      if (this.room?.kind === 'private' || this.room?.kind === 'direct') {
        this.joinBar.append('You are not a member of this room.')
      } else {
        this.joinBar.append(
          h('span', {}, 'You are reading ', h('strong', {}, this.room ? `#${this.room.name}` : 'this room'), '.'),
          h('button', { id: 'join-room', type: 'button', class: 'primary', onclick: () => void this.join() }, 'Join room'),
        )
      }
    }
    this.updateCounter()
  }

  private canPost(): boolean {
    return this.isMember && !this.archived && !this.fatal
  }

  private setStatus(s: SocketStatus): void {
    const text = { connecting: 'connecting', online: 'live', offline: 'reconnecting…', closed: 'disconnected' }[s]
    this.statusEl.textContent = text
    this.statusEl.dataset.status = s
  }

  // ====================================================================== notices

  notice(text: string, kind: 'info' | 'error' | 'warn' = 'info', opts: { code?: string; until?: number; ttl?: number } = {}): void {
    if (opts.code) this.notices.querySelector(`[data-code="${CSS.escape(opts.code)}"]`)?.remove()
    const textEl = h('span', { class: 'notice-text' }, text)
    const close = h('button', { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss' }, '×')
    const n = h('div', { class: `notice notice-${kind}`, 'data-code': opts.code ?? null }, textEl, close)
    let timer: number | undefined
    const remove = () => {
      window.clearInterval(timer)
      n.remove()
    }
    close.addEventListener('click', remove)
    if (opts.until) {
      const until = opts.until
      const tick = () => {
        const left = Math.ceil((until - Date.now()) / 1000)
        if (left <= 0) return remove()
        textEl.textContent = `${text} You can send again in ${left} s.`
      }
      tick()
      timer = window.setInterval(tick, 250)
    } else {
      timer = window.setTimeout(remove, opts.ttl ?? 6000)
    }
    this.notices.append(n)
    while (this.notices.children.length > 3) this.notices.firstElementChild?.remove()
  }

  // ====================================================================== events

  private onWindowFocus = () => {
    this.scheduleRead()
  }

  private onOnline = () => this.socket?.kick()

  private wire(): void {
    this.menuBtn.addEventListener('click', () => this.openMenu())
    this.membersBtn.addEventListener('click', () => this.togglePanel({ kind: 'members' }))
    this.jump.addEventListener('click', () => {
      this.scrollToBottom(true)
      this.input.focus({ preventScroll: true })
    })
    this.list.addEventListener('scroll', () => {
      if (this.list.scrollTop < LOAD_OLDER_PX) void this.loadOlder()
      this.stuck = this.atBottom()
      if (this.stuck) {
        this.jump.hidden = true
        this.missedWhileUp = 0
      }
      this.scheduleRead()
    }, { passive: true })
    this.list.addEventListener('keydown', (ev) => this.listKeys(ev))
    window.addEventListener('focus', this.onWindowFocus)
    document.addEventListener('visibilitychange', this.onWindowFocus)
    // A panel opening, the typing line or a growing composer shrink the list: stay at the bottom.
    this.resizeObserver = new ResizeObserver(() => {
      if (this.stuck && this.savedScroll === null) this.list.scrollTop = this.list.scrollHeight
    })
    this.resizeObserver.observe(this.list)
    window.addEventListener('online', this.onOnline)

    // presence: `active` at most every 30 s while the user does something here
    const activity = () => this.presenceActive()
    for (const ev of ['keydown', 'pointerdown', 'wheel']) this.el.addEventListener(ev, activity, { passive: true })

    this.composer.addEventListener('submit', (ev) => {
      ev.preventDefault()
      this.submit(this.input, null)
    })
    this.bindComposerKeys(this.input, null)
    this.input.addEventListener('input', () => {
      autoGrow(this.input)
      this.updateCounter()
      this.typingInput(this.input.value)
    })
    this.input.addEventListener('blur', () => this.stopTyping())
  }

  private bindComposerKeys(input: HTMLTextAreaElement, parentId: number | null): void {
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        ev.preventDefault()
        this.submit(input, parentId)
      } else if (ev.key === 'ArrowUp' && !input.value && parentId === null) {
        // Edit my last message, like Slack.
        const last = [...this.order].reverse().map((id) => this.messages.get(id)).find((m) => m && m.author === this.me && !m.deleted)
        if (last) {
          ev.preventDefault()
          this.startEdit(last)
        }
      } else if (ev.key === 'Escape' && parentId !== null) {
        this.togglePanel(null)
      }
    })
  }

  private listKeys(ev: KeyboardEvent): void {
    if (ev.key !== 'ArrowUp' && ev.key !== 'ArrowDown') return
    const target = ev.target as HTMLElement
    if (target.closest('.msg-edit') || target.closest('.emoji-picker')) return
    const msgs = [...this.list.querySelectorAll<HTMLElement>(':scope > .msg')]
    if (!msgs.length) return
    const cur = target.closest<HTMLElement>('.msg')
    let i = cur ? msgs.indexOf(cur) : msgs.length
    i = ev.key === 'ArrowUp' ? Math.max(0, i - 1) : Math.min(msgs.length - 1, i + 1)
    ev.preventDefault()
    msgs[i].focus()
  }

  private presenceActive(): void {
    const now = Date.now()
    if (now - this.lastPresenceSent < PRESENCE_EVERY_MS) return
    if (this.socket?.send({ type: 'presence', state: 'active' })) this.lastPresenceSent = now
  }

  // ====================================================================== typing

  private typingInput(value: string): void {
    if (!this.canPost()) return
    if (!value.trim()) {
      this.stopTyping()
      return
    }
    const now = Date.now()
    if (now - this.lastTypingSent >= TYPING_EVERY_MS) {
      if (this.socket?.send({ type: 'typing', active: true })) {
        this.lastTypingSent = now
        this.typingActive = true
      }
    }
  }

  private stopTyping(): void {
    if (!this.typingActive) return
    this.typingActive = false
    this.lastTypingSent = 0
    this.socket?.send({ type: 'typing', active: false })
  }

  private showTyping(user: string, active: boolean, expiresIn: number): void {
    if (user === this.me) return
    const old = this.typing.get(user)
    if (old) window.clearTimeout(old.timer)
    if (active) {
      const timer = window.setTimeout(() => {
        this.typing.delete(user)
        this.renderTyping()
      }, Math.max(1, expiresIn) * 1000)
      this.typing.set(user, { timer })
    } else this.typing.delete(user)
    this.renderTyping()
  }

  private renderTyping(): void {
    const names = [...this.typing.keys()].sort()
    clear(this.typingEl)
    this.typingEl.dataset.users = names.join(',')
    if (!names.length) return
    this.typingEl.append(
      h('span', { class: 'typing-dots', 'aria-hidden': 'true' }, h('span', {}), h('span', {}), h('span', {})),
      h('strong', {}, listNames(names)),
      names.length === 1 ? ' is typing…' : ' are typing…',
    )
  }

  // ====================================================================== composer

  private updateCounter(): void {
    this.renderCounter(this.input, this.counter, this.sendBtn)
    if (this.threadInput && this.threadCounter && this.threadSend) this.renderCounter(this.threadInput, this.threadCounter, this.threadSend)
  }

  private renderCounter(input: HTMLTextAreaElement, counter: HTMLElement, send: HTMLButtonElement): void {
    const n = charCount(input.value)
    const over = n > MAX_BODY
    counter.hidden = n < COUNTER_FROM
    counter.textContent = over ? `${formatNumber(n - MAX_BODY)} too long` : `${formatNumber(MAX_BODY - n)} left`
    counter.classList.toggle('over', over)
    counter.dataset.count = String(n)
    input.setAttribute('aria-invalid', over ? 'true' : 'false')
    send.disabled = over || !input.value.trim() || !this.canPost()
  }

  private submit(input: HTMLTextAreaElement, parentId: number | null): void {
    const body = input.value
    if (!body.trim() || !this.canPost()) return
    if (charCount(body) > MAX_BODY) {
      this.notice(ERROR_TEXT.too_long, 'error', { code: 'too_long' })
      return
    }
    if (!this.socket) return
    input.value = ''
    autoGrow(input)
    this.updateCounter()
    if (parentId === null) this.stopTyping()
    else if (this.typingActive) this.stopTyping()
    const p: Pending = { clientId: newClientId(), body, parentId, createdAt: new Date().toISOString(), state: 'sending' }
    this.pending.set(p.clientId, p)
    this.unreadFrom = null // the "new messages" line has served its purpose
    const frame = { type: 'message.send' as const, client_id: p.clientId, body, ...(parentId !== null ? { parent_id: parentId } : {}) }
    this.socket.sendMessage(frame)
    if (parentId === null) {
      this.layout()
      this.scrollToBottom(false)
    } else this.renderThread()
    this.presenceActive()
  }

  // ====================================================================== socket frames

  private socketHandlers() {
    return {
      change: (_kind: string, m: Message) => this.applyChange(m, true),
      ack: (clientId: string, seq: number, id: number) => this.onAck(clientId, seq, id),
      error: (f: ErrorFrame) => this.onErrorFrame(f),
      typing: (user: string, active: boolean, expiresIn: number) => this.showTyping(user, active, expiresIn),
      read: (user: string, seq: number) => {
        if (user === this.me) {
          this.readSent = Math.max(this.readSent, seq)
          this.ctx.directory.markRead(this.roomId, seq)
        }
        const m = this.members?.find((x) => x.username === user)
        if (m) m.last_read_seq = Math.max(m.last_read_seq ?? 0, seq)
      },
      presence: (here: { user: string; status: PresenceStatus }[]) => {
        this.here = here.filter((x) => x && typeof x.user === 'string')
        this.renderHere()
        if (this.panel?.kind === 'members') this.renderMembers()
      },
      room: (r: { id: number; name?: string; kind?: string; archived?: boolean }) => {
        this.applyRoomUpdate(r)
        void this.ctx.directory.refresh()
      },
      status: (s: SocketStatus) => {
        this.setStatus(s)
        if (s === 'online') {
          this.lastPresenceSent = 0
          if (document.hasFocus()) this.presenceActive()
        } else {
          // Others' typing indicators cannot be renewed while we are away.
          for (const t of this.typing.values()) window.clearTimeout(t.timer)
          this.typing.clear()
          this.renderTyping()
        }
      },
      resumed: () => this.scheduleRead(),
      fatal: (code: number, msg: string) => {
        if (code === 4403 && this.isMember) {
          this.isMember = false
          void this.ctx.directory.refresh()
        }
        this.showFatal(code === 4401 ? `${msg} Sign in again to keep chatting.` : msg)
      },
    }
  }

  private onAck(clientId: string, seq: number, id: number): void {
    const p = this.pending.get(clientId)
    if (!p) return
    const m = this.messages.get(id)
    if (m) {
      this.pending.delete(clientId) // the message.new arrived first
      return
    }
    // Wait for message.new (it follows on this socket); show it as sent meanwhile.
    const el = this.mainEls.get(`p:${clientId}`) ?? this.threadEls.get(`p:${clientId}`)
    if (el) {
      el.dataset.state = 'acked'
      el.dataset.seq = String(seq)
      el.querySelector('.msg-sending')?.remove()
    }
  }

  private onErrorFrame(f: ErrorFrame): void {
    if (f.code === 'unknown_type') {
      console.debug('chat: server does not know a frame type yet', f.message)
      return
    }
    const p = f.client_id ? this.pending.get(f.client_id) : undefined
    if (p) {
      if (f.code === 'rate_limited') {
        const wait = typeof f.retry_after === 'number' ? f.retry_after : 2
        this.socket?.holdAndRetry(p.clientId, wait)
        this.notice('You are sending messages too fast.', 'warn', { code: 'rate_limited', until: Date.now() + wait * 1000 })
        return
      }
      this.socket?.settle(p.clientId)
      p.state = 'failed'
      p.error = ERROR_TEXT[f.code] ?? f.message ?? f.code
      this.refreshPending(p)
      return
    }
    if (this.editing?.saving) this.editing.fail()
    if (f.code === 'rate_limited') {
      const wait = typeof f.retry_after === 'number' ? f.retry_after : 2
      this.notice('Slow down.', 'warn', { code: 'rate_limited', until: Date.now() + wait * 1000 })
      return
    }
    if (f.code === 'archived') this.applyRoomUpdate({ archived: true })
    if (f.code === 'not_member') {
      this.isMember = false
      this.updateComposerState()
    }
    this.notice(ERROR_TEXT[f.code] ?? f.message ?? f.code, 'error', { code: f.code })
  }

  private refreshPending(p: Pending): void {
    const key = `p:${p.clientId}`
    const mainEl = this.mainEls.get(key)
    if (mainEl) fillPending(mainEl, p, this.actions('main'), this.me)
    const tEl = this.threadEls.get(key)
    if (tEl) fillPending(tEl, p, this.actions('thread'), this.me)
  }

  // ====================================================================== message store

  /** Merge one message (REST page or change frame). Returns true if it changed anything. */
  private store(m: Message, live: boolean): boolean {
    if (Array.isArray(m.reactions)) this.reactionsSeen = true
    const old = this.messages.get(m.id)
    if (old && old.version_seq > m.version_seq) return false // we already have a newer state
    if (old && old.version_seq === m.version_seq && !live) return false
    this.messages.set(m.id, m)
    this.maxSeq = Math.max(this.maxSeq, m.seq)
    if (!old) {
      if (m.parent_id === null) insertSorted(this.order, m.id, (id) => this.messages.get(id)?.seq ?? 0)
      else {
        let set = this.repliesOf.get(m.parent_id)
        if (!set) this.repliesOf.set(m.parent_id, (set = new Set()))
        set.add(m.id)
        // A live reply we did not know: the parent's count (from its last payload) lacks it.
        // (Any later change frame of the parent carries the server's count again.)
        const parent = this.messages.get(m.parent_id)
        if (live && parent && typeof parent.reply_count === 'number' && m.created_version > parent.version_seq) parent.reply_count += 1
      }
    }
    if (m.author === this.me && m.client_id && this.pending.has(m.client_id)) {
      // Our own message arrived: the pending element becomes the real one (no flicker).
      const p = this.pending.get(m.client_id)!
      this.pending.delete(m.client_id)
      this.socket?.settle(m.client_id)
      const el = this.mainEls.get(`p:${p.clientId}`)
      if (el) {
        this.mainEls.delete(`p:${p.clientId}`)
        this.mainEls.set(`m:${m.id}`, el)
      }
      const tEl = this.threadEls.get(`p:${p.clientId}`)
      if (tEl) {
        this.threadEls.delete(`p:${p.clientId}`)
        this.threadEls.set(`m:${m.id}`, tEl)
      }
    }
    return true
  }

  private addPage(msgs: Message[], hasMore: boolean): void {
    for (const m of msgs) {
      this.store(m, false)
      this.oldestSeq = this.oldestSeq === null ? m.seq : Math.min(this.oldestSeq, m.seq)
    }
    this.hasMoreBefore = hasMore && msgs.length > 0
    for (const m of msgs) if (m.parent_id === null) this.renderMain(m)
    this.setHistoryState(this.hasMoreBefore ? 'more' : 'start')
  }

  private applyChange(m: Message, live: boolean): void {
    const wasNew = !this.messages.has(m.id)
    const ownPending = m.author === this.me && this.pending.has(m.client_id)
    if (!this.store(m, live)) return
    if (wasNew) this.ctx.directory.noteActivity(this.roomId, m.seq, m.author)
    const stick = this.atBottom() || ownPending
    if (m.parent_id === null) {
      this.renderMain(m)
      if (wasNew) this.layout()
    } else {
      const parent = this.messages.get(m.parent_id)
      if (parent) this.renderMain(parent) // reply count
    }
    if (this.panel?.kind === 'thread' && (this.panel.parentId === m.id || this.panel.parentId === m.parent_id)) this.renderThread()
    if (this.editing?.saving && this.editing.id === m.id && m.version_seq > this.editing.version) this.editing.finish()
    if (wasNew && m.parent_id === null) {
      if (stick) this.scrollToBottom(false)
      else if (m.author !== this.me) {
        this.missedWhileUp++
        this.jump.hidden = false
        this.jump.textContent = `${this.missedWhileUp} new message${this.missedWhileUp === 1 ? '' : 's'} ↓`
      }
    }
    this.scheduleRead()
  }

  private actions(where: Where): MessageActions {
    return {
      me: this.me,
      reactions: () => this.reactionsSeen,
      canDelete: (m) => !m.deleted && (m.author === this.me || this.room?.role === 'owner') && this.isMember && !this.archived,
      canPost: () => this.canPost(),
      replyCount: (m) => (typeof m.reply_count === 'number' ? m.reply_count : this.liveReplies(m.id)),
      react: (m, emoji, add) => {
        if (!this.socket?.send({ type: add ? 'reaction.add' : 'reaction.remove', id: m.id, emoji })) this.offline()
      },
      openThread: (m) => this.togglePanel({ kind: 'thread', parentId: m.id }, true),
      edit: (m) => this.startEdit(m, where),
      remove: (m) => void this.deleteMessage(m),
      retry: (p) => {
        p.state = 'sending'
        p.error = undefined
        this.refreshPending(p)
        // Same client_id: if the first try was stored after all, the server returns that one.
        this.socket?.sendMessage({ type: 'message.send', client_id: p.clientId, body: p.body, ...(p.parentId !== null ? { parent_id: p.parentId } : {}) })
      },
      discard: (p) => {
        this.socket?.settle(p.clientId)
        this.pending.delete(p.clientId)
        this.mainEls.get(`p:${p.clientId}`)?.remove()
        this.mainEls.delete(`p:${p.clientId}`)
        this.threadEls.get(`p:${p.clientId}`)?.remove()
        this.threadEls.delete(`p:${p.clientId}`)
      },
    }
  }

  private liveReplies(id: number): number {
    let n = 0
    for (const rid of this.repliesOf.get(id) ?? []) if (!this.messages.get(rid)?.deleted) n++
    return n
  }

  private offline(): void {
    this.notice('Not connected right now; try again in a moment.', 'warn', { code: 'offline' })
  }

  private renderMain(m: Message): void {
    const key = `m:${m.id}`
    let el = this.mainEls.get(key)
    if (!el) {
      el = h('article', {})
      this.mainEls.set(key, el)
    }
    if (this.editing?.id === m.id && this.editing.el === el) return // keep the edit box
    fillMessage(el, m, this.actions('main'), 'main')
  }

  // ====================================================================== layout

  private setHistoryState(state: 'more' | 'loading' | 'start' | 'none'): void {
    this.historyTop.dataset.state = state
    clear(this.historyTop)
    if (state === 'loading') this.historyTop.append(h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Loading older messages…')
    else if (state === 'start') {
      const label = this.room ? roomLabel(this.room, this.me) : 'this room'
      this.historyTop.append(
        h('div', { class: 'history-start-title' }, this.room?.kind === 'direct' ? label : `#${label}`),
        h('div', { class: 'muted' }, 'This is the very beginning of the conversation.'),
      )
    }
  }

  /** Put the message elements, day and unread dividers in order (moving only what changed). */
  private layout(): void {
    const desired: HTMLElement[] = [this.historyTop]
    let prev: Message | null = null
    let unreadPlaced = false
    const usedDays = new Set<string>()
    for (const id of this.order) {
      const m = this.messages.get(id)
      const el = this.mainEls.get(`m:${id}`)
      if (!m || !el) continue
      const day = dayKey(m.created_at)
      let divided = false
      if (!prev || dayKey(prev.created_at) !== day) {
        let d = this.dayEls.get(day)
        if (!d) {
          d = h('div', { class: 'day-divider', role: 'separator', 'data-day': day }, h('span', {}))
          this.dayEls.set(day, d)
        }
        const label = dayLabel(m.created_at) // "Today" becomes "Yesterday" at midnight
        if (d.textContent !== label) d.firstElementChild!.textContent = label
        usedDays.add(day)
        desired.push(d)
        divided = true
      }
      if (!unreadPlaced && this.unreadFrom !== null && m.seq > this.unreadFrom && m.author !== this.me) {
        desired.push(this.unreadDivider)
        unreadPlaced = true
        divided = true
      }
      const cont = !divided && !!prev && prev.author === m.author && !prev.deleted && !m.deleted && minutesBetween(prev.created_at, m.created_at) < GROUP_MINUTES
      el.classList.toggle('msg-cont', cont)
      desired.push(el)
      prev = m
    }
    let prevAuthor = prev?.author ?? null
    let prevTime = prev?.created_at ?? ''
    for (const p of this.pending.values()) {
      if (p.parentId !== null) continue
      const key = `p:${p.clientId}`
      let el = this.mainEls.get(key)
      if (!el) {
        el = h('article', {})
        this.mainEls.set(key, el)
        fillPending(el, p, this.actions('main'), this.me)
      }
      el.classList.toggle('msg-cont', prevAuthor === this.me && !!prevTime && minutesBetween(prevTime, p.createdAt) < GROUP_MINUTES)
      desired.push(el)
      prevAuthor = this.me
      prevTime = p.createdAt
    }
    reconcile(this.list, desired)
    for (const day of this.dayEls.keys()) if (!usedDays.has(day)) this.dayEls.delete(day)
    this.list.dataset.count = String(this.order.length)
  }

  private atBottom(): boolean {
    if (!this.list.isConnected) return this.stuck
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < AT_BOTTOM_PX
  }

  private scrollToBottom(smooth: boolean): void {
    this.list.scrollTo({ top: this.list.scrollHeight, behavior: smooth ? 'smooth' : 'auto' })
    this.stuck = true
    this.jump.hidden = true
    this.missedWhileUp = 0
  }

  private initialScroll(): void {
    if (this.unreadDivider.isConnected) {
      this.list.scrollTop = Math.max(0, this.unreadDivider.offsetTop - this.list.offsetTop - 80)
      if (!this.atBottom()) return
    }
    this.scrollToBottom(false)
  }

  /** Load older pages while the list does not fill the viewport. */
  private async fillViewport(): Promise<void> {
    for (let i = 0; i < 5 && !this.destroyed; i++) {
      if (!this.hasMoreBefore || this.list.scrollHeight > this.list.clientHeight + LOAD_OLDER_PX) return
      await this.loadOlder()
    }
  }

  private async loadOlder(): Promise<void> {
    if (this.loadingOlder || !this.hasMoreBefore || this.oldestSeq === null || this.fatal) return
    this.loadingOlder = true
    this.setHistoryState('loading')
    this.list.setAttribute('aria-busy', 'true')
    try {
      const page = await chatApi.messages(this.roomId, { before: this.oldestSeq, limit: PAGE })
      if (this.destroyed) return
      // Keep what the reader looks at in place: measure from the bottom.
      const fromBottom = this.list.scrollHeight - this.list.scrollTop
      this.addPage(page.messages, page.has_more)
      this.layout()
      this.list.scrollTop = this.list.scrollHeight - fromBottom
    } catch (e) {
      if (!this.destroyed) {
        this.setHistoryState('more')
        this.notice(`Could not load older messages: ${errText(e)}`, 'error', { code: 'history' })
      }
    } finally {
      this.loadingOlder = false
      this.list.removeAttribute('aria-busy')
    }
    // Still at the top (a short page, or replies only): keep going.
    if (!this.destroyed && this.hasMoreBefore && this.list.scrollTop < LOAD_OLDER_PX) {
      window.setTimeout(() => void this.loadOlder(), 50)
    }
  }

  // ====================================================================== read markers

  private scheduleRead(): void {
    window.clearTimeout(this.readTimer)
    this.readTimer = window.setTimeout(() => this.sendRead(), 400)
  }

  private sendRead(): void {
    if (!this.isMember || this.destroyed || !this.socket?.isOpen) return
    if (document.visibilityState !== 'visible' || !document.hasFocus()) return
    const seq = this.highestVisibleSeq()
    if (seq <= this.readSent) return
    if (this.socket.send({ type: 'read', seq })) {
      this.readSent = seq
      this.ctx.directory.markRead(this.roomId, seq)
    }
  }

  private highestVisibleSeq(): number {
    if (this.atBottom()) return this.maxSeq // everything, replies included
    const bottom = this.list.getBoundingClientRect().bottom
    let best = 0
    // Walk up from the newest message; the first one whose top is on screen is the answer.
    for (let i = this.order.length - 1; i >= 0; i--) {
      const el = this.mainEls.get(`m:${this.order[i]}`)
      if (!el) continue
      if (el.getBoundingClientRect().top < bottom) {
        best = this.messages.get(this.order[i])?.seq ?? 0
        break
      }
    }
    return best
  }

  // ====================================================================== edit / delete

  private startEdit(m: Message, where: Where = 'main'): void {
    const el = where === 'main' ? this.mainEls.get(`m:${m.id}`) : this.threadEls.get(`m:${m.id}`)
    if (!el || m.deleted || m.author !== this.me) return
    this.editing?.finish()
    const body = el.querySelector<HTMLElement>('.msg-body')
    if (!body) return
    el.querySelector(':scope > .msg-actions')?.remove()
    el.classList.add('editing')
    const input = h('textarea', { class: 'msg-edit-input', 'aria-label': 'Edit message', rows: 1 })
    input.value = m.body
    const save = h('button', { type: 'submit', class: 'primary', 'data-action': 'save' }, 'Save')
    const cancel = h('button', { type: 'button', 'data-action': 'cancel' }, 'Cancel')
    const state = h('span', { class: 'muted msg-edit-state', 'aria-live': 'polite' }, 'Esc to cancel · Enter to save')
    const form = h('form', { class: 'msg-edit' }, input, h('div', { class: 'msg-edit-buttons' }, cancel, save, state))
    body.replaceWith(form)
    let timer: number | undefined
    const edit = {
      id: m.id,
      el,
      version: m.version_seq,
      saving: false,
      finish: () => {
        window.clearTimeout(timer)
        el.classList.remove('editing')
        if (this.editing === edit) this.editing = null
        const cur = this.messages.get(m.id)
        if (cur) {
          if (where === 'main') fillMessage(el, cur, this.actions('main'), 'main')
          else this.renderThread()
        }
      },
      fail: () => {
        window.clearTimeout(timer)
        edit.saving = false
        input.disabled = save.disabled = false
        state.textContent = 'Not saved — try again.'
        input.focus()
      },
    }
    this.editing = edit
    const submit = () => {
      const next = input.value
      if (!next.trim() || next === m.body) return edit.finish()
      if (charCount(next) > MAX_BODY) {
        state.textContent = ERROR_TEXT.too_long
        return
      }
      edit.version = this.messages.get(m.id)?.version_seq ?? m.version_seq
      if (!this.socket?.send({ type: 'message.edit', id: m.id, body: next })) return this.offline()
      edit.saving = true
      input.disabled = save.disabled = true
      state.textContent = 'Saving…'
      timer = window.setTimeout(() => edit.saving && edit.fail(), 10_000)
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      submit()
    })
    cancel.addEventListener('click', () => edit.finish())
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault()
        ev.stopPropagation()
        edit.finish()
        ;(where === 'main' ? this.input : this.threadInput)?.focus()
      } else if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault()
        submit()
      }
    })
    input.addEventListener('input', () => autoGrow(input))
    input.focus()
    input.setSelectionRange(input.value.length, input.value.length)
    autoGrow(input)
  }

  private async deleteMessage(m: Message): Promise<void> {
    const preview = plainText(m.body, 80)
    const mine = m.author === this.me
    const ok = await confirmDialog('delete-dialog', 'Delete message?', mine ? `Delete “${preview}”? This cannot be undone.` : `Delete ${m.author}'s message “${preview}”? This cannot be undone.`, 'Delete')
    if (!ok) return
    if (!this.socket?.send({ type: 'message.delete', id: m.id })) this.offline()
  }

  // ====================================================================== presence / members

  private statusOf(user: string): PresenceStatus {
    const here = this.here.find((x) => x.user === user)
    if (here) return here.status === 'away' ? 'away' : 'online'
    return this.online.get(user) ?? 'offline'
  }

  private renderHere(): void {
    clear(this.hereEl)
    const people = [...this.here].sort((a, b) => (a.user === this.me ? -1 : b.user === this.me ? 1 : a.user.localeCompare(b.user)))
    this.hereEl.dataset.users = people.map((p) => p.user).sort().join(',')
    this.hereEl.setAttribute('aria-label', people.length ? `In this room now: ${people.map((p) => p.user).join(', ')}` : 'Nobody else here')
    const shown = people.slice(0, 5)
    for (const p of shown) {
      this.hereEl.append(avatar(p.user, { size: 'sm', status: p.status === 'away' ? 'away' : 'online', label: `${p.user} (${p.status})` }))
    }
    if (people.length > shown.length) this.hereEl.append(h('span', { class: 'avatar avatar-sm avatar-more' }, `+${people.length - shown.length}`))
  }

  private togglePanel(panel: Panel, force = false): void {
    const same = JSON.stringify(panel) === JSON.stringify(this.panel)
    this.panel = same && !force ? null : panel
    window.clearInterval(this.onlineTimer)
    this.threadEls.clear()
    this.threadList = this.threadParentEl = this.threadInput = this.threadCounter = this.threadSend = null
    clear(this.panelEl)
    this.panelEl.hidden = !this.panel
    this.el.classList.toggle('with-panel', !!this.panel)
    this.membersBtn.setAttribute('aria-pressed', this.panel?.kind === 'members' ? 'true' : 'false')
    if (!this.panel) {
      this.focusComposer()
      return
    }
    if (this.panel.kind === 'members') this.openMembers()
    else this.openThread(this.panel.parentId)
  }

  private panelHead(title: string, id: string): HTMLElement {
    const close = h('button', { type: 'button', class: 'icon-button panel-close', 'aria-label': `Close ${title.toLowerCase()}`, title: 'Close (Esc)' }, icon('close'))
    close.addEventListener('click', () => this.togglePanel(null))
    this.panelEl.onkeydown = (ev) => {
      if (ev.key === 'Escape' && !(ev.target as HTMLElement).closest('.msg-edit')) this.togglePanel(null)
    }
    return h('header', { class: 'panel-head' }, h('h2', { id }, title), close)
  }

  private openMembers(): void {
    this.panelEl.setAttribute('aria-labelledby', 'members-title')
    const list = h('ul', { id: 'member-list', class: 'member-list' })
    this.panelEl.append(this.panelHead('Members', 'members-title'), list)
    const canAdd = this.isMember && !this.archived && this.room?.kind !== 'direct' && (this.room?.kind === 'public' || this.room?.role === 'owner')
    if (canAdd) {
      const input = h('input', { id: 'add-member-input', type: 'text', placeholder: 'username', autocapitalize: 'none', spellcheck: 'false', 'aria-label': 'Username to add' })
      const add = h('button', { id: 'add-member', type: 'submit', class: 'primary' }, 'Add')
      const err = h('p', { class: 'error', role: 'alert', hidden: true })
      const form = h('form', { class: 'add-member-form' }, input, add)
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault()
        const u = input.value.trim().replace(/^@/, '')
        if (!u) return
        add.disabled = true
        err.hidden = true
        try {
          await chatApi.addMember(this.roomId, u)
          input.value = ''
          await this.loadMembers()
        } catch (e) {
          err.textContent = errText(e)
          err.hidden = false
        } finally {
          add.disabled = false
        }
      })
      this.panelEl.append(h('section', { class: 'panel-section' }, h('h3', {}, 'Add people'), form, err))
    }
    this.renderMembers()
    void this.loadMembers()
    void this.loadOnline()
    this.onlineTimer = window.setInterval(() => void this.loadOnline(), 30_000)
  }

  private async loadMembers(): Promise<void> {
    try {
      this.members = await chatApi.members(this.roomId)
    } catch (e) {
      if (!missing(e)) this.notice(errText(e), 'error', { code: 'members' })
      this.members = null
    }
    if (!this.destroyed && this.panel?.kind === 'members') this.renderMembers()
  }

  private async loadOnline(): Promise<void> {
    try {
      const data = await chatApi.online()
      this.online = new Map((data.users ?? []).map((u) => [u.user, u.status === 'away' ? 'away' : 'online']))
    } catch {
      this.online = new Map()
    }
    if (!this.destroyed && this.panel?.kind === 'members') this.renderMembers()
  }

  private renderMembers(): void {
    const list = this.panelEl.querySelector('#member-list')
    if (!list) return
    clear(list)
    const people: { username: string; role?: string }[] = this.members ?? this.here.map((x) => ({ username: x.user }))
    if (!this.members) {
      list.append(h('li', { class: 'muted member-note' }, this.here.length ? 'People with this room open:' : 'The member list is not available yet.'))
    }
    const rank = { online: 0, away: 1, offline: 2 }
    const sorted = [...people].sort((a, b) => rank[this.statusOf(a.username)] - rank[this.statusOf(b.username)] || a.username.localeCompare(b.username))
    const owner = this.room?.role === 'owner' && this.room?.kind !== 'direct'
    for (const p of sorted) {
      const status = this.statusOf(p.username)
      const remove =
        owner && p.username !== this.me && p.role !== 'owner'
          ? h('button', { type: 'button', class: 'link-button member-remove', 'aria-label': `Remove ${p.username} from the room` }, 'remove')
          : null
      remove?.addEventListener('click', async () => {
        if (!(await confirmDialog('remove-member-dialog', 'Remove member?', `Remove ${p.username} from this room?`, 'Remove'))) return
        try {
          await chatApi.removeMember(this.roomId, p.username)
          await this.loadMembers()
        } catch (e) {
          this.notice(missing(e) ? 'Removing members is not available on this server yet.' : errText(e), 'error')
        }
      })
      list.append(
        h(
          'li',
          { class: 'member', 'data-username': p.username, 'data-status': status },
          avatar(p.username, { size: 'sm', status, label: '' }),
          h('span', { class: 'member-name' }, p.username, p.username === this.me ? h('span', { class: 'muted' }, ' (you)') : null),
          h('span', { class: `presence-label presence-${status}` }, status),
          p.role === 'owner' ? h('span', { class: 'role role-owner' }, 'owner') : null,
          remove,
        ),
      )
    }
  }

  // ====================================================================== threads

  private openThread(parentId: number): void {
    this.panelEl.setAttribute('aria-labelledby', 'thread-title')
    this.threadParentEl = h('div', { id: 'thread-parent', class: 'thread-parent' })
    this.threadList = h('div', { id: 'thread-replies', class: 'thread-replies', role: 'log', 'aria-label': 'Replies' })
    const input = h('textarea', { id: 'thread-input', class: 'composer-input', rows: 1, 'aria-label': 'Reply', placeholder: 'Reply…' })
    const send = h('button', { id: 'thread-send', type: 'submit', class: 'primary send' }, 'Reply')
    const counter = h('span', { id: 'thread-counter', class: 'composer-counter', hidden: true })
    const form = h('form', { id: 'thread-composer', class: 'composer' }, h('div', { class: 'composer-box' }, input, h('div', { class: 'composer-side' }, counter, send)))
    this.threadInput = input
    this.threadCounter = counter
    this.threadSend = send
    form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      this.submit(input, parentId)
    })
    this.bindComposerKeys(input, parentId)
    input.addEventListener('input', () => {
      autoGrow(input)
      this.updateCounter()
      this.typingInput(input.value)
    })
    input.addEventListener('blur', () => this.stopTyping())
    form.hidden = !this.canPost()
    this.panelEl.append(this.panelHead('Thread', 'thread-title'), this.threadParentEl, this.threadList, form)
    this.panelEl.dataset.parentId = String(parentId)
    this.renderThread()
    this.updateCounter()
    input.focus()
    void this.loadThread(parentId)
  }

  private async loadThread(parentId: number): Promise<void> {
    try {
      let after: number | undefined
      for (let i = 0; i < 10; i++) {
        const page = await chatApi.thread(this.roomId, parentId, after)
        if (this.destroyed || this.panel?.kind !== 'thread' || this.panel.parentId !== parentId) return
        this.store(page.parent, false)
        for (const r of page.replies) this.store(r, false)
        if (!page.has_more || !page.replies.length) {
          const p = this.messages.get(parentId)
          if (p && after === undefined) p.reply_count = page.replies.filter((r) => !r.deleted).length
          break
        }
        after = page.replies[page.replies.length - 1].seq
      }
    } catch (e) {
      if (!missing(e)) this.notice(`Could not load the thread: ${errText(e)}`, 'error', { code: 'thread' })
      // Without the thread endpoint the panel shows the replies this page has seen.
    }
    const parent = this.messages.get(parentId)
    if (parent) this.renderMain(parent)
    this.renderThread()
  }

  private renderThread(): void {
    if (this.panel?.kind !== 'thread' || !this.threadList || !this.threadParentEl) return
    const parentId = this.panel.parentId
    const parent = this.messages.get(parentId)
    const a = this.actions('thread')
    clear(this.threadParentEl)
    if (parent) {
      const el = h('article', {})
      fillMessage(el, parent, this.actions('main'), 'parent')
      el.classList.add('thread-root')
      this.threadParentEl.append(el)
    } else this.threadParentEl.append(h('p', { class: 'muted' }, 'Loading…'))
    const replies = [...(this.repliesOf.get(parentId) ?? [])]
      .map((id) => this.messages.get(id)!)
      .filter(Boolean)
      .sort((x, y) => x.seq - y.seq)
    const desired: HTMLElement[] = []
    this.threadCount.textContent = `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`
    desired.push(this.threadCount)
    let prev: Message | null = null
    for (const r of replies) {
      const key = `m:${r.id}`
      let el = this.threadEls.get(key)
      if (!el) {
        el = h('article', {})
        this.threadEls.set(key, el)
      }
      if (!(this.editing?.el === el)) fillMessage(el, r, a, 'thread')
      el.classList.toggle('msg-cont', !!prev && prev.author === r.author && !prev.deleted && minutesBetween(prev.created_at, r.created_at) < GROUP_MINUTES)
      desired.push(el)
      prev = r
    }
    for (const p of this.pending.values()) {
      if (p.parentId !== parentId) continue
      const key = `p:${p.clientId}`
      let el = this.threadEls.get(key)
      if (!el) {
        el = h('article', {})
        this.threadEls.set(key, el)
      }
      fillPending(el, p, a, this.me)
      desired.push(el)
    }
    const stick = this.threadList.scrollHeight - this.threadList.scrollTop - this.threadList.clientHeight < AT_BOTTOM_PX
    reconcile(this.threadList, desired)
    if (stick) this.threadList.scrollTop = this.threadList.scrollHeight
  }

  /** Scroll to (and highlight) the message numbered `seq`, loading older pages if needed. */
  async reveal(seq: number): Promise<void> {
    for (let i = 0; i < 20 && !this.destroyed; i++) {
      while (this.loadingOlder) await new Promise((r) => window.setTimeout(r, 50))
      if (this.oldestSeq === null || this.oldestSeq <= seq || !this.hasMoreBefore) break
      await this.loadOlder()
    }
    if (this.destroyed) return
    const m = [...this.messages.values()].find((x) => x.seq === seq)
    if (!m) {
      this.notice('That message is too far back to show here.', 'info', { code: 'reveal' })
      return
    }
    if (m.parent_id !== null) {
      this.togglePanel({ kind: 'thread', parentId: m.parent_id }, true)
      const el = this.threadEls.get(`m:${m.id}`)
      el?.scrollIntoView({ block: 'center' })
      flash(el)
      return
    }
    const el = this.mainEls.get(`m:${m.id}`)
    if (!el) return
    el.scrollIntoView({ block: 'center' })
    this.stuck = this.atBottom()
    el.focus({ preventScroll: true })
    flash(el)
  }

  /** For tests and debugging. */
  debugState(): Record<string, unknown> {
    return {
      roomId: this.roomId,
      order: this.order.map((id) => this.messages.get(id)?.seq),
      pending: [...this.pending.keys()],
      lastVersion: this.socket?.lastVersion,
      status: this.socket?.status,
      hasMoreBefore: this.hasMoreBefore,
    }
  }
}

/** Make `parent`'s children exactly `desired`, moving only the nodes that are out of place. */
function reconcile(parent: HTMLElement, desired: Node[]): void {
  let cur = parent.firstChild
  for (const node of desired) {
    if (node === cur) cur = cur.nextSibling
    else parent.insertBefore(node, cur)
  }
  while (cur) {
    const next = cur.nextSibling
    parent.removeChild(cur)
    cur = next
  }
}

function flash(el: HTMLElement | undefined): void {
  if (!el) return
  el.classList.remove('flash')
  void el.offsetWidth // restart the animation
  el.classList.add('flash')
  window.setTimeout(() => el.classList.remove('flash'), 2500)
}

function insertSorted(arr: number[], id: number, key: (id: number) => number): void {
  const k = key(id)
  let lo = 0
  let hi = arr.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (key(arr[mid]) < k) lo = mid + 1
    else hi = mid
  }
  arr.splice(lo, 0, id)
}

function autoGrow(t: HTMLTextAreaElement): void {
  t.style.height = 'auto'
  t.style.height = `${Math.min(t.scrollHeight, Math.round(window.innerHeight * 0.4))}px`
}

export function errText(e: unknown): string {
  return e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e)
}
