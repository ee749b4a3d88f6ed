// History paging: keyset pages of 50 going back from the newest message (#history-top says
// more | loading | start). The message list asks for older pages when the reader nears the top
// and keeps what the reader looks at in place.
import { ApiError } from '../../api/errors'
import { chatApi, type Message } from '../api'
import { Store } from '../lib/store'
import type { MessageStore } from '../messages/MessageStore'
import { errText } from './errors'

export const PAGE = 50

export type HistoryState = 'more' | 'loading' | 'start' | 'none'

export interface HistoryHost {
  readonly roomId: number
  readonly store: MessageStore
  readonly destroyed: boolean
  readonly isFatal: boolean
  fatal(text: string): void
  notice(text: string, kind: 'error', opts: { code: string }): void
}

export class History {
  readonly state = new Store<HistoryState>('loading')
  private oldestSeq: number | null = null
  private hasMoreBefore = true
  private loading: Promise<void> | null = null

  constructor(
    private readonly host: HistoryHost,
    private readonly api = chatApi,
  ) {}

  get hasMore(): boolean {
    return this.hasMoreBefore && this.oldestSeq !== null
  }

  /** The newest page; false when the room cannot be shown (the host shows why). */
  async loadLatest(): Promise<boolean> {
    this.state.set('loading')
    try {
      const page = await this.api.messages(this.host.roomId, { limit: PAGE })
      if (this.host.destroyed) return false
      this.addPage(page.messages, page.has_more)
      return true
    } catch (e) {
      if (!this.host.destroyed) this.host.fatal(fatalText(e))
      return false
    }
  }

  /** Make sure the first message after `lastRead` is loaded (up to a few pages back). */
  async loadBackToUnread(lastRead: number | null): Promise<void> {
    for (let i = 0; i < 3 && lastRead !== null && (this.oldestSeq ?? 0) > lastRead + 1; i++) {
      if (!this.hasMore || this.host.destroyed) break
      await this.loadOlder()
    }
  }

  /** Load older pages until message `seq` is here (or the start of the room is). */
  async loadBackTo(seq: number): Promise<void> {
    for (let i = 0; i < 20 && !this.host.destroyed; i++) {
      if (this.loading) await this.loading
      if (this.oldestSeq === null || this.oldestSeq <= seq || !this.hasMoreBefore) break
      await this.loadOlder()
    }
  }

  /** One older page (at most one request at a time). */
  loadOlder(): Promise<void> {
    if (this.loading) return this.loading
    if (!this.hasMore || this.host.isFatal) return Promise.resolve()
    const before = this.oldestSeq ?? undefined
    this.state.set('loading')
    this.loading = (async () => {
      try {
        const page = await this.api.messages(this.host.roomId, { before, limit: PAGE })
        if (!this.host.destroyed) this.addPage(page.messages, page.has_more)
      } catch (e) {
        if (!this.host.destroyed) {
          this.state.set('more')
          this.host.notice(`Could not load older messages: ${errText(e)}`, 'error', { code: 'history' })
        }
      } finally {
        this.loading = null
      }
    })()
    return this.loading
  }

  private addPage(msgs: Message[], hasMore: boolean): void {
    this.host.store.batch(() => {
      for (const m of msgs) {
        this.host.store.put(m, false)
        this.oldestSeq = this.oldestSeq === null ? m.seq : Math.min(this.oldestSeq, m.seq)
      }
    })
    this.hasMoreBefore = hasMore && msgs.length > 0
    this.state.set(this.hasMoreBefore ? 'more' : 'start')
  }
}

function fatalText(e: unknown): string {
  if (e instanceof ApiError && e.status === 403) return 'This room is private.'
  if (e instanceof ApiError && e.status === 404) return 'This room does not exist.'
  return errText(e)
}
