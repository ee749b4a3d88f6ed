// The room header: kind icon, title, who is here, the socket status, the members button and
// the room menu; and the banner under it (a room that cannot be shown, or is archived).

import { clear, h } from '../../dom'
import { icon } from '../../icons'
import type { SocketStatus } from '../socket'
import type { RoomView } from './index'

const STATUS_TEXT: Record<SocketStatus, string> = { connecting: 'connecting', online: 'live', offline: 'reconnecting…', closed: 'disconnected' }

export class RoomHeader {
  readonly el: HTMLElement
  readonly banner = h('div', { id: 'room-banner', class: 'room-banner', hidden: true })
  readonly membersBtn = h('button', { id: 'members-btn', type: 'button', class: 'icon-button', 'aria-label': 'Members', title: 'Members', 'aria-pressed': 'false' }, icon('users'))
  private readonly titleEl = h('h1', { id: 'room-title', class: 'room-title' })
  private readonly kindEl = h('span', { id: 'room-kind', class: 'room-kind' })
  private readonly statusEl = h('span', { id: 'chat-status', class: 'status', 'data-status': 'connecting', role: 'status' }, 'connecting')
  private readonly menuBtn = h('button', {
    id: 'room-menu-btn', type: 'button', class: 'icon-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    'aria-label': 'Room options', title: 'Room options',
  }, icon('more'))
  private menu: HTMLElement | null = null
  private readonly closeMenuOutside = (ev: Event) => {
    if (this.menu && !this.menu.contains(ev.target as Node) && ev.target !== this.menuBtn) this.closeMenu()
  }

  constructor(
    private readonly view: RoomView,
    here: HTMLElement,
  ) {
    this.el = h(
      'header',
      { class: 'room-head' },
      this.kindEl,
      this.titleEl,
      h('span', { class: 'spacer' }),
      here,
      this.statusEl,
      this.membersBtn,
      this.menuBtn,
    )
    this.menuBtn.addEventListener('click', () => this.openMenu())
    this.membersBtn.addEventListener('click', () => view.panel.toggle({ kind: 'members' }))
  }

  destroy(): void {
    document.removeEventListener('pointerdown', this.closeMenuOutside, true)
  }

  render(): void {
    const { view } = this
    const label = view.title()
    const kind = view.kind
    this.titleEl.textContent = label
    this.kindEl.replaceChildren(icon(kind === 'private' ? 'lock' : kind === 'direct' ? 'message' : 'hash'))
    this.kindEl.setAttribute('role', 'img')
    this.kindEl.setAttribute('aria-label', kind === 'private' ? 'Private room' : kind === 'direct' ? 'Direct message' : 'Public room')
    this.kindEl.dataset.kind = kind
    document.title = `${kind === 'direct' ? '' : '#'}${label} · Chat · Collab`
    this.renderBanner()
  }

  private renderBanner(): void {
    const { view, banner } = this
    clear(banner)
    banner.hidden = true
    if (view.fatal) {
      banner.hidden = false
      banner.className = 'room-banner banner banner-error'
      banner.setAttribute('role', 'alert')
      banner.append(view.fatal, ' ', h('a', { href: '/chat', 'data-link': true }, 'Back to your rooms'))
    } else if (view.archived) {
      banner.hidden = false
      banner.className = 'room-banner banner banner-info'
      banner.append('This room is archived: you can read it, but not post.')
      if (view.room?.role === 'owner') {
        banner.append(' ', h('button', { type: 'button', class: 'link-button', id: 'unarchive', onclick: () => void view.commands.setArchived(false) }, 'Unarchive'))
      }
    }
  }

  setStatus(s: SocketStatus): void {
    this.statusEl.textContent = STATUS_TEXT[s]
    this.statusEl.dataset.status = s
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
    const { view } = this
    const { room, commands } = view
    const items: [string, string, () => void][] = []
    items.push(['members', 'Members', () => view.panel.toggle({ kind: 'members' })])
    if (room?.role === 'owner' && room.kind !== 'direct') {
      items.push(['rename', 'Rename room…', () => commands.rename()])
      items.push(view.archived ? ['unarchive', 'Unarchive room', () => void commands.setArchived(false)] : ['archive', 'Archive room', () => void commands.setArchived(true)])
    }
    if (view.isMember) items.push(['leave', room?.kind === 'direct' ? 'Leave conversation' : 'Leave room', () => void commands.leave()])
    else if (room?.kind !== 'private' && room?.kind !== 'direct') items.push(['join', 'Join room', () => void commands.join()])
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
}
