// The room's message log (#message-list): top-level messages in seq order with day and
// unread dividers, pending sends at the end, and the scroll position: the view follows new
// messages while it is at the bottom, otherwise "N new messages ↓" counts what arrived.

import { h } from '../../dom'
import type { Message } from '../api'
import { dayKey, dayLabel, minutesBetween } from '../format'
import { fillMessage, fillPending } from '../message-el'
import { flash, MessageElements, messageKey, pendingKey, reconcile } from './elements'
import type { RoomView } from './index'

/** Messages by one author this close together share one header. */
export const GROUP_MINUTES = 5
/** Closer than this to the bottom counts as at the bottom. */
export const AT_BOTTOM_PX = 48

export class MessageList {
  readonly el = h('div', {
    id: 'message-list', class: 'message-list', role: 'log', 'aria-label': 'Messages', 'aria-live': 'polite',
    'aria-relevant': 'additions', tabindex: 0,
  })
  private readonly jump = h('button', { id: 'jump-latest', type: 'button', class: 'jump-latest', hidden: true }, 'New messages ↓')
  readonly scroller = h('div', { class: 'message-scroller' }, this.el, this.jump)
  readonly els = new MessageElements()
  private readonly dayEls = new Map<string, HTMLElement>()
  /** The view follows new messages (it was at the bottom). */
  private stuck = true
  private missedWhileUp = 0
  private savedScroll: number | null = null
  private readonly resizeObserver: ResizeObserver

  constructor(private readonly view: RoomView) {
    this.el.append(view.history.el)
    this.jump.addEventListener('click', () => {
      this.scrollToBottom(true)
      this.view.composer.input.focus({ preventScroll: true })
    })
    this.el.addEventListener('scroll', () => {
      this.view.history.loadOlderNearTop()
      this.stuck = this.atBottom()
      if (this.stuck) {
        this.jump.hidden = true
        this.missedWhileUp = 0
      }
      this.view.readMarkers.schedule()
    }, { passive: true })
    this.el.addEventListener('keydown', (ev) => this.moveFocus(ev))
    // A panel opening, the typing line or a growing composer shrink the list: stay at the bottom.
    this.resizeObserver = new ResizeObserver(() => {
      if (this.stuck && this.savedScroll === null) this.el.scrollTop = this.el.scrollHeight
    })
    this.resizeObserver.observe(this.el)
  }

  destroy(): void {
    this.resizeObserver.disconnect()
  }

  /** Called before the shell is detached from the page (the router swaps containers). */
  saveScroll(): void {
    this.savedScroll = this.el.scrollTop
  }

  restoreScroll(): void {
    if (this.savedScroll !== null) this.el.scrollTop = this.savedScroll
    this.savedScroll = null
  }

  /** (Re)build a top-level message's element; it is placed by `layout`. */
  render(m: Message): void {
    const el = this.els.getOrCreate(messageKey(m.id))
    if (this.view.editor.isEditing(m.id, el)) return // keep the edit box
    fillMessage(el, m, this.view.messageActions('main'), 'main')
  }

  /** Put the message elements, day and unread dividers in order (moving only what changed). */
  layout(): void {
    const { store, me } = this.view
    const unreadFrom = this.view.readMarkers.unreadFrom
    const desired: HTMLElement[] = [this.view.history.el]
    let prev: Message | null = null
    let unreadPlaced = false
    const usedDays = new Set<string>()
    for (const id of store.order) {
      const m = store.get(id)
      const el = this.els.get(messageKey(id))
      if (!m || !el) continue
      const day = dayKey(m.created_at)
      let divided = false
      if (!prev || dayKey(prev.created_at) !== day) {
        desired.push(this.dayDivider(day, m.created_at))
        usedDays.add(day)
        divided = true
      }
      if (!unreadPlaced && unreadFrom !== null && m.seq > unreadFrom && m.author !== me) {
        desired.push(this.view.readMarkers.divider)
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
    for (const p of store.pendingIn(null)) {
      const key = pendingKey(p.clientId)
      let el = this.els.get(key)
      if (!el) fillPending((el = this.els.create(key)), p, this.view.messageActions('main'), me)
      el.classList.toggle('msg-cont', prevAuthor === me && !!prevTime && minutesBetween(prevTime, p.createdAt) < GROUP_MINUTES)
      desired.push(el)
      prevAuthor = me
      prevTime = p.createdAt
    }
    reconcile(this.el, desired)
    for (const day of this.dayEls.keys()) if (!usedDays.has(day)) this.dayEls.delete(day)
    this.el.dataset.count = String(store.order.length)
  }

  private dayDivider(day: string, createdAt: string): HTMLElement {
    let d = this.dayEls.get(day)
    if (!d) {
      d = h('div', { class: 'day-divider', role: 'separator', 'data-day': day }, h('span', {}))
      this.dayEls.set(day, d)
    }
    const label = dayLabel(createdAt) // "Today" becomes "Yesterday" at midnight
    if (d.textContent !== label) d.firstElementChild!.textContent = label
    return d
  }

  atBottom(): boolean {
    if (!this.el.isConnected) return this.stuck
    return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < AT_BOTTOM_PX
  }

  scrollToBottom(smooth: boolean): void {
    this.el.scrollTo({ top: this.el.scrollHeight, behavior: smooth ? 'smooth' : 'auto' })
    this.stuck = true
    this.jump.hidden = true
    this.missedWhileUp = 0
  }

  /** Where a freshly opened room starts: at the "New messages" line, else at the bottom. */
  initialScroll(): void {
    const divider = this.view.readMarkers.divider
    if (divider.isConnected) {
      this.el.scrollTop = Math.max(0, divider.offsetTop - this.el.offsetTop - 80)
      if (!this.atBottom()) return
    }
    this.scrollToBottom(false)
  }

  /** A new top-level message is in the list: follow it, or count it on the jump button. */
  newMessageShown(m: Message, stick: boolean): void {
    if (stick) this.scrollToBottom(false)
    else if (m.author !== this.view.me) {
      this.missedWhileUp++
      this.jump.hidden = false
      this.jump.textContent = `${this.missedWhileUp} new message${this.missedWhileUp === 1 ? '' : 's'} ↓`
    }
  }

  /** Scroll to a top-level message, focus and highlight it. */
  reveal(m: Message): void {
    const el = this.els.get(messageKey(m.id))
    if (!el) return
    el.scrollIntoView({ block: 'center' })
    this.stuck = this.atBottom()
    el.focus({ preventScroll: true })
    flash(el)
  }

  /** The seq of the newest message the reader can see (everything, replies included, at the bottom). */
  highestVisibleSeq(): number {
    const { store } = this.view
    if (this.atBottom()) return store.maxSeq
    const bottom = this.el.getBoundingClientRect().bottom
    let best = 0
    // Walk up from the newest message; the first one whose top is on screen is the answer.
    for (let i = store.order.length - 1; i >= 0; i--) {
      const el = this.els.get(messageKey(store.order[i]))
      if (!el) continue
      if (el.getBoundingClientRect().top < bottom) {
        best = store.get(store.order[i])?.seq ?? 0
        break
      }
    }
    return best
  }

  /** ↑/↓ move the focus between messages. */
  private moveFocus(ev: KeyboardEvent): void {
    if (ev.key !== 'ArrowUp' && ev.key !== 'ArrowDown') return
    const target = ev.target as HTMLElement
    if (target.closest('.msg-edit') || target.closest('.emoji-picker')) return
    const msgs = [...this.el.querySelectorAll<HTMLElement>(':scope > .msg')]
    if (!msgs.length) return
    const cur = target.closest<HTMLElement>('.msg')
    let i = cur ? msgs.indexOf(cur) : msgs.length
    i = ev.key === 'ArrowUp' ? Math.max(0, i - 1) : Math.min(msgs.length - 1, i + 1)
    ev.preventDefault()
    msgs[i].focus()
  }
}
