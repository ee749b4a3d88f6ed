// Presence in the room: the avatars of who has it open (#room-here, from `presence`
// frames), and `presence` `active` frames at most every 30 s while the user does something.

import { avatar } from '../../avatar'
import { clear, h } from '../../dom'
import type { PresenceStatus } from '../api'
import type { RoomView } from './index'

const PRESENCE_EVERY_MS = 30_000
const AVATARS_SHOWN = 5

export interface HereEntry {
  user: string
  status: PresenceStatus
}

export class Presence {
  readonly el = h('div', { id: 'room-here', class: 'room-here', role: 'group', 'aria-label': 'In this room now' })
  here: HereEntry[] = []
  private lastSent = 0

  constructor(private readonly view: RoomView) {}

  /** The user did something here. */
  active(): void {
    const now = Date.now()
    if (now - this.lastSent < PRESENCE_EVERY_MS) return
    if (this.view.socket?.send({ type: 'presence', state: 'active' })) this.lastSent = now
  }

  /** A fresh connection starts without our state: say it again now. */
  connected(): void {
    this.lastSent = 0
    if (document.hasFocus()) this.active()
  }

  /** A `presence` frame: who has the room open. */
  update(here: HereEntry[]): void {
    this.here = here.filter((x) => x && typeof x.user === 'string')
    this.render()
  }

  private render(): void {
    const { me } = this.view
    clear(this.el)
    const people = [...this.here].sort((a, b) => (a.user === me ? -1 : b.user === me ? 1 : a.user.localeCompare(b.user)))
    this.el.dataset.users = people.map((p) => p.user).sort().join(',')
    this.el.setAttribute('aria-label', people.length ? `In this room now: ${people.map((p) => p.user).join(', ')}` : 'Nobody else here')
    const shown = people.slice(0, AVATARS_SHOWN)
    for (const p of shown) {
      this.el.append(avatar(p.user, { size: 'sm', status: p.status === 'away' ? 'away' : 'online', label: `${p.user} (${p.status})` }))
    }
    if (people.length > shown.length) this.el.append(h('span', { class: 'avatar avatar-sm avatar-more' }, `+${people.length - shown.length}`))
  }
}
