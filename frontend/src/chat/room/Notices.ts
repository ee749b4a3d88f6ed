// Small dismissable notices above the message list (#chat-notices): at most three; one per
// code (a new one replaces the old); a countdown (`until`) or a time to live.
import { Store } from '../lib/store'

export type NoticeKind = 'info' | 'error' | 'warn'

export interface Notice {
  id: number
  text: string
  kind: NoticeKind
  code?: string
  /** Count down to this time (ms since epoch), then go away. */
  until?: number
}

export interface NoticeOptions {
  code?: string
  until?: number
  ttl?: number
}

const MAX_NOTICES = 3

export class Notices extends Store<readonly Notice[]> {
  private nextId = 1
  private readonly timers = new Map<number, number>()

  constructor() {
    super([])
  }

  show(text: string, kind: NoticeKind = 'info', opts: NoticeOptions = {}): void {
    const notice: Notice = { id: this.nextId++, text, kind, code: opts.code, until: opts.until }
    const kept = this.get().filter((n) => !opts.code || n.code !== opts.code)
    for (const n of this.get()) if (!kept.includes(n)) this.clearTimer(n.id)
    const next = [...kept, notice]
    for (const n of next.slice(0, Math.max(0, next.length - MAX_NOTICES))) this.clearTimer(n.id)
    this.set(next.slice(-MAX_NOTICES))
    const wait = opts.until ? opts.until - Date.now() : (opts.ttl ?? 6000)
    this.timers.set(
      notice.id,
      window.setTimeout(() => this.dismiss(notice.id), Math.max(0, wait)),
    )
  }

  dismiss(id: number): void {
    this.clearTimer(id)
    this.set((list) => list.filter((n) => n.id !== id))
  }

  destroy(): void {
    for (const t of this.timers.values()) window.clearTimeout(t)
    this.timers.clear()
  }

  private clearTimer(id: number): void {
    window.clearTimeout(this.timers.get(id))
    this.timers.delete(id)
  }
}
