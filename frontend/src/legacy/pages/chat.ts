// /chat and /chat/:id — the chat shell (room list + room view).
//
// The shell survives navigation between chat URLs: the router tears pages down on every
// navigation, so the cleanup only schedules the teardown and the next chat page picks the
// shell (and its inbox socket and room list) up again. Only the room view is swapped.

import type { User } from '../api'
import { h } from '../dom'
import type { Cleanup } from '../router'
import { RoomDirectory } from '../chat/directory'
import { RoomView } from '../chat/room'
import { Sidebar } from '../chat/sidebar'
import { parseMarkup, renderMarkup } from '../chat/markup'
import { header, requireUserOrShowError, setNavUnread } from './common'

class ChatShell {
  readonly el: HTMLElement
  readonly directory: RoomDirectory
  private sidebar: Sidebar
  private main = h('div', { id: 'chat-main', class: 'chat-main' })
  private layoutEl: HTMLElement
  room: RoomView | null = null
  /** The markup renderer, for in-browser tests (tests/e2e/test_chat_browser.py). */
  readonly markup = { parseMarkup, renderMarkup }
  private openToken = 0
  private ready: Promise<void>
  private unsubscribe: () => void

  constructor(readonly user: User) {
    this.directory = new RoomDirectory(user.username)
    this.sidebar = new Sidebar(user.username, this.directory)
    this.layoutEl = h('main', { id: 'chat', class: 'chat-layout' }, this.sidebar.el, this.main)
    this.el = h('div', { class: 'chat-page' }, header(user), this.layoutEl)
    this.directory.start()
    this.ready = this.directory.refresh()
    this.unsubscribe = this.directory.subscribe(() => {
      this.room?.roomChanged()
      setNavUnread(this.directory.totalUnread())
    })
    // Online/away: the open room's socket reports activity itself; without a room, the inbox does.
    const activity = () => {
      if (!this.room) this.directory.presenceActive()
    }
    for (const ev of ['keydown', 'pointerdown']) this.el.addEventListener(ev, activity, { passive: true })
    ;(window as unknown as { __chat?: unknown }).__chat = this
  }

  async open(id: number | null): Promise<void> {
    const token = ++this.openToken
    const target = /^#seq-(\d+)$/.exec(location.hash)
    if (id !== null && this.room?.roomId === id) {
      this.room.restoreScroll()
      this.sidebar.setActive(id)
      if (target) void this.room.reveal(Number(target[1]))
      else this.room.focusComposer()
      return
    }
    this.room?.destroy()
    this.room = null
    this.sidebar.setActive(id)
    this.layoutEl.dataset.hasRoom = String(id !== null)
    if (id === null) {
      document.title = 'Chat · Collab'
      this.main.replaceChildren(this.emptyState())
      return
    }
    this.main.replaceChildren(h('div', { class: 'room-loading muted', 'aria-busy': 'true' }, 'Loading…'))
    await this.ready // membership and roles come from the room list
    if (token !== this.openToken) return
    const view = new RoomView(id, { me: this.user.username, directory: this.directory })
    this.room = view
    this.main.replaceChildren(
      h('a', { id: 'room-back', class: 'room-back', href: '/chat', 'data-link': true, 'aria-label': 'Back to rooms' }, '‹ Rooms'),
      view.el,
    )
    await view.start()
    if (target && this.room === view) await view.reveal(Number(target[1]))
  }

  private emptyState(): HTMLElement {
    const newRoom = h('button', { type: 'button', class: 'primary', id: 'empty-new-room' }, 'Create a room')
    const browse = h('button', { type: 'button', id: 'empty-browse' }, 'Browse public rooms')
    const dm = h('button', { type: 'button', id: 'empty-new-dm' }, 'Message someone')
    newRoom.addEventListener('click', () => this.sidebar.newRoomDialog())
    browse.addEventListener('click', () => void this.sidebar.browseDialog())
    dm.addEventListener('click', () => this.sidebar.directDialog())
    return h(
      'section',
      { id: 'chat-empty', class: 'chat-empty' },
      h('div', { class: 'chat-empty-icon', 'aria-hidden': 'true' }, '💬'),
      h('h1', {}, 'Chat'),
      h('p', { class: 'muted' }, 'Pick a room on the left, or start something new.'),
      h('div', { class: 'chat-empty-actions' }, newRoom, browse, dm),
    )
  }

  detach(): void {
    this.room?.saveScroll()
  }

  destroy(): void {
    this.unsubscribe()
    this.room?.destroy()
    this.room = null
    this.sidebar.destroy()
    this.directory.stop()
    const w = window as unknown as { __chat?: unknown }
    if (w.__chat === this) delete w.__chat
  }
}

let shell: ChatShell | null = null
let teardown: number | undefined

export async function chatPage(root: HTMLElement, params: Record<string, string>): Promise<void | Cleanup> {
  const raw = params.id
  const id = raw === undefined ? null : /^\d{1,12}$/.test(raw) ? Number(raw) : NaN
  if (shell && teardown !== undefined) {
    window.clearTimeout(teardown)
    teardown = undefined
  } else {
    const user = await requireUserOrShowError(root)
    if (!user) return
    shell?.destroy()
    shell = new ChatShell(user)
  }
  const s = shell
  root.append(s.el)
  if (Number.isNaN(id)) {
    void s.open(null)
    s.el.querySelector('#chat-main')?.replaceChildren(
      h('section', { class: 'chat-empty' }, h('h1', {}, 'Room not found'), h('p', {}, h('a', { href: '/chat', 'data-link': true }, 'Back to your rooms'))),
    )
  } else void s.open(id)
  return () => {
    s.detach()
    // Kept for a moment: if the next page is a chat page too, it takes the shell over.
    teardown = window.setTimeout(() => {
      teardown = undefined
      if (shell === s) shell = null
      s.destroy()
    }, 400)
  }
}
