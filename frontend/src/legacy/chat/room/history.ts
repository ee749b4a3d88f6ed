// History paging: keyset pages of 50 going back from the newest message, loaded when the
// reader scrolls near the top (#history-top says more | loading | start), with the position
// the reader looks at kept in place.

import { ApiError } from '../../api'
import { clear, h } from '../../dom'
import { chatApi, roomLabel, type Message } from '../api'
import { errText } from './errors'
import type { RoomView } from './index'

const PAGE = 50
/** Closer than this to the top loads the previous page. */
const LOAD_OLDER_PX = 300

export type HistoryState = 'more' | 'loading' | 'start' | 'none'

export class HistoryPager {
  readonly el = h('div', { id: 'history-top', class: 'history-top', 'data-state': 'more' })
  private oldestSeq: number | null = null
  hasMoreBefore = true
  private loadingOlder = false

  constructor(private readonly view: RoomView) {}

  private get list(): HTMLElement {
    return this.view.list.el
  }

  setState(state: HistoryState): void {
    this.el.dataset.state = state
    clear(this.el)
    if (state === 'loading') this.el.append(h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Loading older messages…')
    else if (state === 'start') {
      const { room, me } = this.view
      const label = room ? roomLabel(room, me) : 'this room'
      this.el.append(
        h('div', { class: 'history-start-title' }, room?.kind === 'direct' ? label : `#${label}`),
        h('div', { class: 'muted' }, 'This is the very beginning of the conversation.'),
      )
    }
  }

  /** The room's name changed: the "very beginning" line names it. */
  relabel(): void {
    if (this.el.dataset.state === 'start') this.setState('start')
  }

  /** The newest page; false when the room cannot be shown (the view shows why). */
  async loadLatest(): Promise<boolean> {
    this.setState('loading')
    this.list.setAttribute('aria-busy', 'true') // no announcing the history as it loads
    let page
    try {
      page = await chatApi.messages(this.view.roomId, { limit: PAGE })
    } catch (e) {
      if (!this.view.destroyed) this.view.showFatal(fatalText(e))
      return false
    }
    if (this.view.destroyed) return false
    this.addPage(page.messages, page.has_more)
    return true
  }

  /** Make sure the first message after `lastRead` is loaded (up to a few pages back). */
  async loadBackToUnread(lastRead: number | null): Promise<void> {
    for (let i = 0; i < 3 && lastRead !== null && this.hasMoreBefore && (this.oldestSeq ?? 0) > lastRead + 1; i++) {
      const older = await chatApi.messages(this.view.roomId, { before: this.oldestSeq ?? undefined, limit: PAGE }).catch(() => null)
      if (!older || this.view.destroyed) break
      this.addPage(older.messages, older.has_more)
    }
  }

  /** Load older pages until message `seq` is here (or the start of the room is). */
  async loadBackTo(seq: number): Promise<void> {
    for (let i = 0; i < 20 && !this.view.destroyed; i++) {
      while (this.loadingOlder) await new Promise((r) => window.setTimeout(r, 50))
      if (this.oldestSeq === null || this.oldestSeq <= seq || !this.hasMoreBefore) break
      await this.loadOlder()
    }
  }

  /** Load older pages while the list does not fill the viewport. */
  async fillViewport(): Promise<void> {
    for (let i = 0; i < 5 && !this.view.destroyed; i++) {
      if (!this.hasMoreBefore || this.list.scrollHeight > this.list.clientHeight + LOAD_OLDER_PX) return
      await this.loadOlder()
    }
  }

  loadOlderNearTop(): void {
    if (this.list.scrollTop < LOAD_OLDER_PX) void this.loadOlder()
  }

  private async loadOlder(): Promise<void> {
    if (this.loadingOlder || !this.hasMoreBefore || this.oldestSeq === null || this.view.fatal) return
    this.loadingOlder = true
    this.setState('loading')
    this.list.setAttribute('aria-busy', 'true')
    try {
      const page = await chatApi.messages(this.view.roomId, { before: this.oldestSeq, limit: PAGE })
      if (this.view.destroyed) return
      // Keep what the reader looks at in place: measure from the bottom.
      const fromBottom = this.list.scrollHeight - this.list.scrollTop
      this.addPage(page.messages, page.has_more)
      this.view.list.layout()
      this.list.scrollTop = this.list.scrollHeight - fromBottom
    } catch (e) {
      if (!this.view.destroyed) {
        this.setState('more')
        this.view.notice(`Could not load older messages: ${errText(e)}`, 'error', { code: 'history' })
      }
    } finally {
      this.loadingOlder = false
      this.list.removeAttribute('aria-busy')
    }
    // Still at the top (a short page, or replies only): keep going.
    if (!this.view.destroyed && this.hasMoreBefore && this.list.scrollTop < LOAD_OLDER_PX) {
      window.setTimeout(() => void this.loadOlder(), 50)
    }
  }

  private addPage(msgs: Message[], hasMore: boolean): void {
    for (const m of msgs) {
      this.view.store.put(m, false)
      this.oldestSeq = this.oldestSeq === null ? m.seq : Math.min(this.oldestSeq, m.seq)
    }
    this.hasMoreBefore = hasMore && msgs.length > 0
    for (const m of msgs) if (m.parent_id === null) this.view.list.render(m)
    this.setState(this.hasMoreBefore ? 'more' : 'start')
  }
}

function fatalText(e: unknown): string {
  if (e instanceof ApiError && e.status === 403) return 'This room is private.'
  if (e instanceof ApiError && e.status === 404) return 'This room does not exist.'
  return e instanceof ApiError ? e.message : String(e)
}
