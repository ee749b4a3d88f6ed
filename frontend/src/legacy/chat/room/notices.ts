// Small dismissable notices above the message list (#chat-notices); at most three at a time.

import { h } from '../../dom'

export type NoticeKind = 'info' | 'error' | 'warn'

export interface NoticeOptions {
  /** A notice replaces the one with the same code. */
  code?: string
  /** Count down to this time (ms since epoch), then go away. */
  until?: number
  ttl?: number
}

export class Notices {
  readonly el = h('div', { id: 'chat-notices', class: 'notices', role: 'status', 'aria-live': 'polite' })

  show(text: string, kind: NoticeKind = 'info', opts: NoticeOptions = {}): void {
    if (opts.code) this.el.querySelector(`[data-code="${CSS.escape(opts.code)}"]`)?.remove()
    const textEl = h('span', { class: 'notice-text' }, text)
    const close = h('button', { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss' }, '×')
    const n = h('div', { class: `notice notice-${kind}`, 'data-code': opts.code ?? null }, textEl, close)
    let timer: number | undefined
    const remove = () => {
      window.clearInterval(timer)
      n.remove()
    }
    close.addEventListener('click', remove)
    if (opts.until) {
      const until = opts.until
      const tick = () => {
        const left = Math.ceil((until - Date.now()) / 1000)
        if (left <= 0) return remove()
        textEl.textContent = `${text} You can send again in ${left} s.`
      }
      tick()
      timer = window.setInterval(tick, 250)
    } else {
      timer = window.setTimeout(remove, opts.ttl ?? 6000)
    }
    this.el.append(n)
    while (this.el.children.length > 3) this.el.firstElementChild?.remove()
  }
}
