// The room list: rooms and direct messages with unread badges, plus the
// "new room", "browse public rooms" and "new direct message" dialogs.

import { avatar } from '../avatar'
import { icon } from '../icons'
import { clear, h } from '../dom'
import { navigate } from '../router'
import { chatApi, missing, publicRoomList, roomLabel, type Room, type SearchResult } from './api'
import { openDialog } from './dialogs'
import type { RoomDirectory } from './directory'
import { fullDate, timeLabel } from './format'

export class Sidebar {
  readonly el: HTMLElement
  private nav = h('nav', { id: 'room-list', class: 'room-nav', 'aria-label': 'Rooms', 'data-live': 'poll' })
  private activeId: number | null = null
  private unsubscribe: () => void

  constructor(
    private readonly me: string,
    private readonly directory: RoomDirectory,
  ) {
    const newRoom = h('button', { id: 'new-room-btn', type: 'button', class: 'sidebar-action' }, icon('plus'), 'New room')
    const browse = h('button', { id: 'browse-rooms-btn', type: 'button', class: 'sidebar-action' }, icon('search'), 'Browse rooms')
    const dm = h('button', { id: 'new-dm-btn', type: 'button', class: 'sidebar-action' }, icon('message'), 'New message')
    newRoom.addEventListener('click', () => this.newRoomDialog())
    browse.addEventListener('click', () => void this.browseDialog())
    dm.addEventListener('click', () => this.directDialog())
    const searchInput = h('input', {
      id: 'chat-search-input', type: 'search', placeholder: 'Search messages', 'aria-label': 'Search messages',
      autocomplete: 'off', maxlength: 200,
    })
    const search = h('form', { id: 'chat-search', class: 'chat-search', role: 'search' }, icon('search'), searchInput)
    search.addEventListener('submit', (ev) => {
      ev.preventDefault()
      const q = searchInput.value.trim()
      if (q) void this.searchDialog(q)
    })
    this.el = h(
      'aside',
      { id: 'chat-sidebar', class: 'chat-sidebar', 'aria-label': 'Chat rooms' },
      search,
      h('div', { class: 'sidebar-actions' }, newRoom, browse, dm),
      this.nav,
      h('a', { href: '/', class: 'back-to-docs', 'data-link': true }, '← Documents'),
    )
    this.unsubscribe = directory.subscribe(() => this.render())
    this.render()
  }

  destroy(): void {
    this.unsubscribe()
  }

  setActive(id: number | null): void {
    this.activeId = id
    for (const a of this.nav.querySelectorAll<HTMLAnchorElement>('a.room-link')) {
      const on = a.dataset.roomId === String(id)
      if (on) a.setAttribute('aria-current', 'page')
      else a.removeAttribute('aria-current')
      a.closest('li')?.classList.toggle('active', on)
    }
  }

  render(): void {
    const d = this.directory
    this.nav.dataset.live = d.mode
    const rooms = [...d.rooms.values()]
    const byName = (a: Room, b: Room) => roomLabel(a, this.me).localeCompare(roomLabel(b, this.me))
    const channels = rooms.filter((r) => r.kind !== 'direct' && !r.archived).sort(byName)
    const directs = rooms.filter((r) => r.kind === 'direct' && !r.archived).sort((a, b) => b.last_seq - a.last_seq || byName(a, b))
    const archived = rooms.filter((r) => r.archived).sort(byName)
    const groups: HTMLElement[] = []
    if (!d.loaded) {
      groups.push(h('p', { class: 'muted sidebar-note' }, d.error ? 'Could not load your rooms.' : 'Loading…'))
    } else {
      groups.push(this.group('rooms', 'Rooms', channels, 'No rooms yet.'))
      groups.push(this.group('direct', 'Direct messages', directs, 'No conversations yet.'))
      if (archived.length) groups.push(this.group('archived', 'Archived', archived, ''))
    }
    this.nav.replaceChildren(...groups)
    this.setActive(this.activeId)
  }

  private group(id: string, title: string, rooms: Room[], empty: string): HTMLElement {
    const headingId = `room-group-${id}`
    const list = h('ul', { class: 'room-group', 'data-group': id, 'aria-labelledby': headingId })
    for (const r of rooms) list.append(this.item(r))
    if (!rooms.length && empty) list.append(h('li', { class: 'muted sidebar-note' }, empty))
    return h('div', { class: 'room-section' }, h('h2', { id: headingId, class: 'room-group-title' }, title), list)
  }

  private item(r: Room): HTMLElement {
    const label = roomLabel(r, this.me)
    const unread = r.unread || 0
    const roomIcon =
      r.kind === 'direct'
        ? avatar((r.members ?? []).find((u) => u !== this.me) ?? label, { size: 'xs', label: '' })
        : h('span', { class: 'room-icon', title: r.kind === 'private' ? 'Private room' : null }, icon(r.kind === 'private' ? 'lock' : 'hash'))
    const badge = h(
      'span',
      { class: 'unread-badge', 'data-count': unread, hidden: unread === 0, 'aria-label': `${unread} unread` },
      unread > 99 ? '99+' : String(unread),
    )
    return h(
      'li',
      { class: `room-item${unread ? ' has-unread' : ''}${r.archived ? ' archived' : ''}`, 'data-room-id': r.id, 'data-kind': r.kind, 'data-unread': unread },
      h(
        'a',
        { class: 'room-link', href: `/chat/${r.id}`, 'data-link': true, 'data-room-id': r.id, title: label },
        roomIcon,
        h('span', { class: 'room-name' }, label),
        badge,
      ),
    )
  }

  // ------------------------------------------------------------------ dialogs

  newRoomDialog(): void {
    const name = h('input', { id: 'new-room-name', type: 'text', maxlength: 200, required: true, placeholder: 'e.g. design-review', autocomplete: 'off' })
    const priv = h('input', { id: 'new-room-private', type: 'checkbox' })
    openDialog({
      id: 'new-room-dialog',
      title: 'Create a room',
      body: [
        h('label', { for: 'new-room-name' }, 'Name'),
        name,
        h('label', { class: 'checkbox' }, priv, ' Private — only people you add can see it'),
      ],
      submitLabel: 'Create',
      onSubmit: async () => {
        const n = name.value.trim()
        if (!n) throw new Error('Please give the room a name.')
        const room = await chatApi.createRoom(n, priv.checked)
        this.directory.upsert({ role: 'owner', last_read_seq: 0, archived: false, ...room, unread: 0 })
        navigate(`/chat/${room.id}`)
      },
    })
  }

  async browseDialog(): Promise<void> {
    const list = h('ul', { id: 'public-rooms', class: 'public-rooms', 'aria-busy': 'true' }, h('li', { class: 'muted' }, 'Loading…'))
    const filter = h('input', { id: 'public-rooms-filter', type: 'search', placeholder: 'Filter rooms', 'aria-label': 'Filter rooms' })
    const dialog = openDialog({ id: 'browse-dialog', title: 'Browse public rooms', body: [filter, list] })
    let rooms
    try {
      rooms = publicRoomList(await chatApi.publicRooms())
    } catch (e) {
      list.removeAttribute('aria-busy')
      clear(list)
      list.append(h('li', { class: 'muted' }, missing(e) ? 'Browsing public rooms is not available on this server yet — open a room from a link instead.' : `Could not load rooms: ${(e as Error).message}`))
      return
    }
    list.removeAttribute('aria-busy')
    const render = () => {
      clear(list)
      const q = filter.value.trim().toLowerCase()
      const shown = rooms.filter((r) => !q || r.name.toLowerCase().includes(q)).sort((a, b) => a.name.localeCompare(b.name))
      if (!shown.length) list.append(h('li', { class: 'muted' }, q ? 'No room matches.' : 'There are no public rooms yet.'))
      for (const r of shown) {
        const joined = r.joined ?? this.directory.rooms.has(r.id)
        const open = h('a', { href: `/chat/${r.id}`, 'data-link': true, class: 'public-room-name', onclick: () => dialog.close() }, `# ${r.name}`)
        const action = joined
          ? h('span', { class: 'muted joined' }, 'joined')
          : h('button', { type: 'button', class: 'primary join', 'data-room-id': r.id }, 'Join')
        if (!joined) {
          action.addEventListener('click', async () => {
            ;(action as HTMLButtonElement).disabled = true
            try {
              await chatApi.join(r.id)
              await this.directory.refresh()
              dialog.close()
              navigate(`/chat/${r.id}`)
            } catch (e) {
              dialog.showError((e as Error).message)
              ;(action as HTMLButtonElement).disabled = false
            }
          })
        }
        list.append(h('li', { class: 'public-room', 'data-room-id': r.id }, open, action))
      }
    }
    filter.addEventListener('input', render)
    render()
  }

  async searchDialog(q: string): Promise<void> {
    const list = h('ul', { id: 'search-results', class: 'search-results', 'aria-busy': 'true', 'aria-live': 'polite' })
    const more = h('button', { type: 'button', id: 'search-more', hidden: true }, 'More results')
    const dialog = openDialog({ id: 'search-dialog', title: `Results for “${q}”`, body: [list, more] })
    dialog.dialog.classList.add('dialog-wide')
    let offset = 0
    const load = async () => {
      more.disabled = true
      let page
      try {
        page = await chatApi.search(q, offset)
      } catch (e) {
        list.removeAttribute('aria-busy')
        list.append(h('li', { class: 'muted' }, missing(e) ? 'Search is not available on this server yet.' : (e as Error).message))
        more.hidden = true
        return
      }
      list.removeAttribute('aria-busy')
      if (!offset && !page.results.length) list.append(h('li', { class: 'muted' }, 'No messages match.'))
      for (const r of page.results) list.append(this.searchResult(r, () => dialog.close()))
      offset = page.next_offset ?? offset + page.results.length
      more.hidden = !page.has_more
      more.disabled = false
    }
    more.addEventListener('click', () => void load())
    await load()
  }

  private searchResult(r: SearchResult, close: () => void): HTMLElement {
    const room = this.directory.get(r.room_id)
    const roomName = room ? roomLabel(room, this.me) : r.room_name
    const snippet = h('div', { class: 'search-snippet' })
    const segments = r.snippet?.length ? r.snippet : [{ text: r.message.body, match: false }]
    for (const s of segments) snippet.append(s.match ? h('mark', {}, s.text) : document.createTextNode(s.text))
    const link = h(
      'a',
      { href: `/chat/${r.room_id}#seq-${r.message.seq}`, 'data-link': true, class: 'search-hit', onclick: close },
      h(
        'div',
        { class: 'search-meta' },
        h('span', { class: 'search-room' }, room?.kind === 'direct' ? roomName : `#${roomName}`),
        h('span', { class: 'search-author' }, r.message.author ?? 'deleted user'),
        h('time', { datetime: r.message.created_at, title: fullDate(r.message.created_at) }, `${new Date(r.message.created_at).toLocaleDateString()} ${timeLabel(r.message.created_at)}`),
        r.message.parent_id !== null ? h('span', { class: 'muted' }, 'in a thread') : null,
      ),
      snippet,
    )
    return h('li', { class: 'search-result', 'data-room-id': r.room_id, 'data-seq': r.message.seq }, link)
  }

  directDialog(): void {
    const input = h('input', {
      id: 'dm-usernames', type: 'text', required: true, placeholder: 'bob, carol', autocapitalize: 'none', spellcheck: 'false',
      autocomplete: 'off', 'aria-describedby': 'dm-help',
    })
    openDialog({
      id: 'dm-dialog',
      title: 'New direct message',
      body: [
        h('label', { for: 'dm-usernames' }, 'To'),
        input,
        h('p', { id: 'dm-help', class: 'muted small' }, 'One to seven usernames, separated by commas or spaces.'),
      ],
      submitLabel: 'Start conversation',
      onSubmit: async () => {
        const names = [...new Set(input.value.split(/[\s,]+/).map((s) => s.trim().replace(/^@/, '')).filter((s) => s && s !== this.me))]
        if (!names.length) throw new Error('Enter at least one username.')
        if (names.length > 7) throw new Error('A direct message is for at most 8 people.')
        let room
        try {
          room = await chatApi.direct(names)
        } catch (e) {
          if (missing(e)) throw new Error('Direct messages are not available on this server yet.')
          throw e
        }
        this.directory.upsert({ ...room, kind: 'direct', members: room.members ?? [this.me, ...names], unread: 0 })
        void this.directory.refresh()
        navigate(`/chat/${room.id}`)
      },
    })
  }
}
