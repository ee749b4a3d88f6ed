// The thread panel: the parent message, its replies (all pages of the thread endpoint, or
// the replies this page has seen on a server without it) and a reply composer.

import { clear, h } from '../../dom'
import { chatApi, missing, type Message } from '../api'
import { minutesBetween } from '../format'
import { fillMessage, fillPending } from '../message-el'
import { composerBox, type ComposerControls } from './composer'
import { flash, MessageElements, messageKey, pendingKey, reconcile } from './elements'
import { errText } from './errors'
import type { RoomView } from './index'
import { AT_BOTTOM_PX, GROUP_MINUTES } from './message-list'

/** Pages of the thread endpoint read at most (200 replies each). */
const MAX_THREAD_PAGES = 10

export class ThreadPanel {
  readonly els = new MessageElements()
  /** The reply composer while a thread is open. */
  controls: ComposerControls | null = null
  private replies: HTMLElement | null = null
  private parentEl: HTMLElement | null = null
  private readonly count = h('div', { class: 'thread-count muted', id: 'thread-count' })

  constructor(private readonly view: RoomView) {}

  /** The panel was emptied (another thread, the members, or closed). */
  reset(): void {
    this.els.clear()
    this.replies = this.parentEl = this.controls = null
  }

  open(parentId: number): void {
    const { view } = this
    const panel = view.panel.el
    panel.setAttribute('aria-labelledby', 'thread-title')
    this.parentEl = h('div', { id: 'thread-parent', class: 'thread-parent' })
    this.replies = h('div', { id: 'thread-replies', class: 'thread-replies', role: 'log', 'aria-label': 'Replies' })
    const controls: ComposerControls = {
      input: h('textarea', { id: 'thread-input', class: 'composer-input', rows: 1, 'aria-label': 'Reply', placeholder: 'Reply…' }),
      counter: h('span', { id: 'thread-counter', class: 'composer-counter', hidden: true }),
      send: h('button', { id: 'thread-send', type: 'submit', class: 'primary send' }, 'Reply'),
    }
    const form = h('form', { id: 'thread-composer', class: 'composer' }, composerBox(controls))
    this.controls = controls
    view.composer.attach(form, controls.input, parentId)
    form.hidden = !view.canPost()
    panel.append(view.panel.head('Thread', 'thread-title'), this.parentEl, this.replies, form)
    panel.dataset.parentId = String(parentId)
    this.render()
    view.composer.updateCounters()
    controls.input.focus()
    void this.load(parentId)
  }

  private async load(parentId: number): Promise<void> {
    const { view } = this
    try {
      let after: number | undefined
      for (let i = 0; i < MAX_THREAD_PAGES; i++) {
        const page = await chatApi.thread(view.roomId, parentId, after)
        if (view.destroyed || !view.panel.showsThreadOf(parentId)) return
        view.store.put(page.parent, false)
        for (const r of page.replies) view.store.put(r, false)
        if (!page.has_more || !page.replies.length) {
          const p = view.store.get(parentId)
          if (p && after === undefined) p.reply_count = page.replies.filter((r) => !r.deleted).length
          break
        }
        after = page.replies[page.replies.length - 1].seq
      }
    } catch (e) {
      if (!missing(e)) view.notice(`Could not load the thread: ${errText(e)}`, 'error', { code: 'thread' })
      // Without the thread endpoint the panel shows the replies this page has seen.
    }
    const parent = view.store.get(parentId)
    if (parent) view.list.render(parent)
    this.render()
  }

  render(): void {
    const { view } = this
    const current = view.panel.current
    if (current?.kind !== 'thread' || !this.replies || !this.parentEl) return
    const parentId = current.parentId
    const parent = view.store.get(parentId)
    const actions = view.messageActions('thread')
    clear(this.parentEl)
    if (parent) {
      const el = h('article', {})
      fillMessage(el, parent, view.messageActions('main'), 'parent')
      el.classList.add('thread-root')
      this.parentEl.append(el)
    } else this.parentEl.append(h('p', { class: 'muted' }, 'Loading…'))
    const replies = view.store.repliesTo(parentId)
    const desired: HTMLElement[] = []
    this.count.textContent = `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`
    desired.push(this.count)
    let prev: Message | null = null
    for (const r of replies) {
      const el = this.els.getOrCreate(messageKey(r.id))
      if (!view.editor.holds(el)) fillMessage(el, r, actions, 'thread')
      el.classList.toggle('msg-cont', !!prev && prev.author === r.author && !prev.deleted && minutesBetween(prev.created_at, r.created_at) < GROUP_MINUTES)
      desired.push(el)
      prev = r
    }
    for (const p of view.store.pendingIn(parentId)) {
      const el = this.els.getOrCreate(pendingKey(p.clientId))
      fillPending(el, p, actions, view.me)
      desired.push(el)
    }
    const list = this.replies
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < AT_BOTTOM_PX
    reconcile(list, desired)
    if (stick) list.scrollTop = list.scrollHeight
  }

  /** Scroll to a reply in the open thread and highlight it. */
  reveal(m: Message): void {
    const el = this.els.get(messageKey(m.id))
    el?.scrollIntoView({ block: 'center' })
    flash(el)
  }
}
