// The side panel (#chat-panel): one thread or the member list at a time.

import { clear, h } from '../../dom'
import { icon } from '../../icons'
import type { RoomView } from './index'

export type PanelContent = { kind: 'thread'; parentId: number } | { kind: 'members' } | null

export class SidePanel {
  readonly el = h('aside', { id: 'chat-panel', class: 'chat-panel', hidden: true })
  current: PanelContent = null

  constructor(private readonly view: RoomView) {}

  /** Show `content`; showing what is already shown closes the panel, unless `force`. */
  toggle(content: PanelContent, force = false): void {
    const same = JSON.stringify(content) === JSON.stringify(this.current)
    this.current = same && !force ? null : content
    this.view.members.stop()
    this.view.thread.reset()
    clear(this.el)
    this.el.hidden = !this.current
    this.view.el.classList.toggle('with-panel', !!this.current)
    this.view.head.membersBtn.setAttribute('aria-pressed', this.current?.kind === 'members' ? 'true' : 'false')
    if (!this.current) {
      this.view.focusComposer()
      return
    }
    if (this.current.kind === 'members') this.view.members.open()
    else this.view.thread.open(this.current.parentId)
  }

  /** The panel's heading with a close button; Escape closes it too (but not an edit box in it). */
  head(title: string, id: string): HTMLElement {
    const close = h('button', { type: 'button', class: 'icon-button panel-close', 'aria-label': `Close ${title.toLowerCase()}`, title: 'Close (Esc)' }, icon('close'))
    close.addEventListener('click', () => this.toggle(null))
    this.el.onkeydown = (ev) => {
      if (ev.key === 'Escape' && !(ev.target as HTMLElement).closest('.msg-edit')) this.toggle(null)
    }
    return h('header', { class: 'panel-head' }, h('h2', { id }, title), close)
  }

  showsThreadOf(parentId: number | null): boolean {
    return this.current?.kind === 'thread' && this.current.parentId === parentId
  }
}
