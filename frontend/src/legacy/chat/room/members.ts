// The member panel: members with their presence (who has the room open, else the online
// list, refreshed every 30 s while the panel is open); owners remove people, and members of
// public rooms (owners of private ones) add them.

import { avatar } from '../../avatar'
import { clear, h } from '../../dom'
import { chatApi, missing, type PresenceStatus, type RoomMember } from '../api'
import { confirmDialog } from '../dialogs'
import { errText } from './errors'
import type { RoomView } from './index'

const ONLINE_EVERY_MS = 30_000
const STATUS_RANK: Record<PresenceStatus, number> = { online: 0, away: 1, offline: 2 }

export class MembersPanel {
  /** null: not loaded, or the server has no member list (the panel shows who is here). */
  private members: RoomMember[] | null = null
  private online = new Map<string, PresenceStatus>()
  private onlineTimer: number | undefined

  constructor(private readonly view: RoomView) {}

  /** The panel closed or shows something else. */
  stop(): void {
    window.clearInterval(this.onlineTimer)
  }

  open(): void {
    const { view } = this
    const panel = view.panel.el
    panel.setAttribute('aria-labelledby', 'members-title')
    const list = h('ul', { id: 'member-list', class: 'member-list' })
    panel.append(view.panel.head('Members', 'members-title'), list)
    const canAdd = view.isMember && !view.archived && view.room?.kind !== 'direct' && (view.room?.kind === 'public' || view.room?.role === 'owner')
    if (canAdd) panel.append(this.addForm())
    this.render()
    void this.load()
    void this.loadOnline()
    this.onlineTimer = window.setInterval(() => void this.loadOnline(), ONLINE_EVERY_MS)
  }

  /** A `read` frame: keep the member's marker current. */
  read(user: string, seq: number): void {
    const m = this.members?.find((x) => x.username === user)
    if (m) m.last_read_seq = Math.max(m.last_read_seq ?? 0, seq)
  }

  renderIfOpen(): void {
    if (!this.view.destroyed && this.view.panel.current?.kind === 'members') this.render()
  }

  private addForm(): HTMLElement {
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
        await chatApi.addMember(this.view.roomId, u)
        input.value = ''
        await this.load()
      } catch (e) {
        err.textContent = errText(e)
        err.hidden = false
      } finally {
        add.disabled = false
      }
    })
    return h('section', { class: 'panel-section' }, h('h3', {}, 'Add people'), form, err)
  }

  private async load(): Promise<void> {
    try {
      this.members = await chatApi.members(this.view.roomId)
    } catch (e) {
      if (!missing(e)) this.view.notice(errText(e), 'error', { code: 'members' })
      this.members = null
    }
    this.renderIfOpen()
  }

  private async loadOnline(): Promise<void> {
    try {
      const data = await chatApi.online()
      this.online = new Map((data.users ?? []).map((u) => [u.user, u.status === 'away' ? 'away' : 'online']))
    } catch {
      this.online = new Map()
    }
    this.renderIfOpen()
  }

  private statusOf(user: string): PresenceStatus {
    const here = this.view.presence.here.find((x) => x.user === user)
    if (here) return here.status === 'away' ? 'away' : 'online'
    return this.online.get(user) ?? 'offline'
  }

  private render(): void {
    const { view } = this
    const list = view.panel.el.querySelector('#member-list')
    if (!list) return
    clear(list)
    const here = view.presence.here
    const people: { username: string; role?: string }[] = this.members ?? here.map((x) => ({ username: x.user }))
    if (!this.members) {
      list.append(h('li', { class: 'muted member-note' }, here.length ? 'People with this room open:' : 'The member list is not available yet.'))
    }
    const sorted = [...people].sort((a, b) => STATUS_RANK[this.statusOf(a.username)] - STATUS_RANK[this.statusOf(b.username)] || a.username.localeCompare(b.username))
    const owner = view.room?.role === 'owner' && view.room?.kind !== 'direct'
    for (const p of sorted) {
      const status = this.statusOf(p.username)
      const remove =
        owner && p.username !== view.me && p.role !== 'owner'
          ? h('button', { type: 'button', class: 'link-button member-remove', 'aria-label': `Remove ${p.username} from the room` }, 'remove')
          : null
      remove?.addEventListener('click', () => void this.remove(p.username))
      list.append(
        h(
          'li',
          { class: 'member', 'data-username': p.username, 'data-status': status },
          avatar(p.username, { size: 'sm', status, label: '' }),
          h('span', { class: 'member-name' }, p.username, p.username === view.me ? h('span', { class: 'muted' }, ' (you)') : null),
          h('span', { class: `presence-label presence-${status}` }, status),
          p.role === 'owner' ? h('span', { class: 'role role-owner' }, 'owner') : null,
          remove,
        ),
      )
    }
  }

  private async remove(username: string): Promise<void> {
    if (!(await confirmDialog('remove-member-dialog', 'Remove member?', `Remove ${username} from this room?`, 'Remove'))) return
    try {
      await chatApi.removeMember(this.view.roomId, username)
      await this.load()
    } catch (e) {
      this.view.notice(missing(e) ? 'Removing members is not available on this server yet.' : errText(e), 'error')
    }
  }
}
