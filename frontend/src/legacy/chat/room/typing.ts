// Typing: `typing` frames go out at most every 3 s while the user types (`active:false` on
// send, blur or an emptied composer); the indicator shows who else is typing until their
// frame expires.

import { clear, h } from '../../dom'
import { listNames } from '../format'
import type { RoomView } from './index'

const TYPING_EVERY_MS = 3_000

export class Typing {
  readonly el = h('div', { id: 'typing-indicator', class: 'typing-indicator', 'aria-live': 'polite' })
  /** Who else is typing, with the timer that expires their indicator. */
  private readonly others = new Map<string, number>()
  private lastSent = 0
  private active = false

  constructor(private readonly view: RoomView) {}

  destroy(): void {
    for (const timer of this.others.values()) window.clearTimeout(timer)
  }

  /** The text in a composer changed. */
  input(value: string): void {
    if (!this.view.canPost()) return
    if (!value.trim()) {
      this.stop()
      return
    }
    const now = Date.now()
    if (now - this.lastSent >= TYPING_EVERY_MS) {
      if (this.view.socket?.send({ type: 'typing', active: true })) {
        this.lastSent = now
        this.active = true
      }
    }
  }

  stop(): void {
    if (!this.active) return
    this.active = false
    this.lastSent = 0
    this.view.socket?.send({ type: 'typing', active: false })
  }

  /** A `typing` frame from the room. */
  show(user: string, active: boolean, expiresIn: number): void {
    if (user === this.view.me) return
    const old = this.others.get(user)
    if (old) window.clearTimeout(old)
    if (active) {
      const timer = window.setTimeout(() => {
        this.others.delete(user)
        this.render()
      }, Math.max(1, expiresIn) * 1000)
      this.others.set(user, timer)
    } else this.others.delete(user)
    this.render()
  }

  /** Others' indicators cannot be renewed while we are disconnected: drop them. */
  clearOthers(): void {
    for (const timer of this.others.values()) window.clearTimeout(timer)
    this.others.clear()
    this.render()
  }

  private render(): void {
    const names = [...this.others.keys()].sort()
    clear(this.el)
    this.el.dataset.users = names.join(',')
    if (!names.length) return
    this.el.append(
      h('span', { class: 'typing-dots', 'aria-hidden': 'true' }, h('span', {}), h('span', {}), h('span', {})),
      h('strong', {}, listNames(names)),
      names.length === 1 ? ' is typing…' : ' are typing…',
    )
  }
}
