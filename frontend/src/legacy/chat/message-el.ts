// DOM for one chat message (confirmed or pending). Bodies go through the safe markup
// renderer; every other piece of user data is set with textContent / attributes.

import { avatar } from '../avatar'
import { clear, h } from '../dom'
import { icon } from '../icons'
import type { Message, Reaction } from './api'
import { fullDate, timeLabel } from './format'
import { renderMarkup } from './markup'

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '👀', '✅', '🙏', '😮']

export interface Pending {
  clientId: string
  body: string
  parentId: number | null
  createdAt: string
  state: 'sending' | 'failed'
  error?: string
}

export interface MessageActions {
  me: string
  /** Show reaction chips and buttons (the server sends `reactions`). */
  reactions(): boolean
  canDelete(m: Message): boolean
  canPost(): boolean
  replyCount(m: Message): number
  react(m: Message, emoji: string, add: boolean): void
  openThread(m: Message): void
  edit(m: Message): void
  remove(m: Message): void
  retry(p: Pending): void
  discard(p: Pending): void
}

export type Where = 'main' | 'thread' | 'parent'

function header(author: string, createdAt: string, editedAt: string | null, extra: Node | null = null): HTMLElement {
  return h(
    'div',
    { class: 'msg-meta' },
    h('span', { class: 'msg-author' }, author),
    h('time', { class: 'msg-time', datetime: createdAt, title: fullDate(createdAt) }, timeLabel(createdAt)),
    editedAt ? h('span', { class: 'msg-edited', title: `Edited ${fullDate(editedAt)}` }, '(edited)') : null,
    extra,
  )
}

function gutter(author: string, createdAt: string): HTMLElement {
  return h(
    'div',
    { class: 'msg-gutter' },
    avatar(author, { label: '' }),
    h('time', { class: 'msg-time-short', datetime: createdAt, title: fullDate(createdAt), 'aria-hidden': 'true' }, timeLabel(createdAt)),
  )
}

function reactionChips(m: Message, a: MessageActions): HTMLElement | null {
  const list: Reaction[] = (m.reactions ?? []).filter((r) => r && r.count > 0)
  if (!list.length || m.deleted) return null
  const box = h('div', { class: 'msg-reactions', role: 'group', 'aria-label': 'Reactions' })
  for (const r of list) {
    const mine = Array.isArray(r.users) && r.users.includes(a.me)
    const who = Array.isArray(r.users) && r.users.length ? r.users.join(', ') : `${r.count}`
    const chip = h(
      'button',
      {
        type: 'button',
        class: mine ? 'reaction mine' : 'reaction',
        'data-emoji': r.emoji,
        'aria-pressed': mine ? 'true' : 'false',
        title: `${who} reacted with ${r.emoji}`,
        'aria-label': `${r.emoji} ${r.count} — ${mine ? 'remove your reaction' : 'react'}`,
        disabled: !a.canPost(),
      },
      h('span', { class: 'reaction-emoji' }, r.emoji),
      h('span', { class: 'reaction-count' }, String(r.count)),
    )
    chip.addEventListener('click', () => a.react(m, r.emoji, !mine))
    box.append(chip)
  }
  return box
}

function threadLink(m: Message, a: MessageActions): HTMLElement | null {
  const n = a.replyCount(m)
  if (!n) return null
  const link = h(
    'button',
    { type: 'button', class: 'thread-link', 'data-thread-link': m.id, 'aria-label': `${n} ${n === 1 ? 'reply' : 'replies'}, open thread` },
    `${n} ${n === 1 ? 'reply' : 'replies'}`,
  )
  link.addEventListener('click', () => a.openThread(m))
  return h('div', { class: 'msg-thread' }, link)
}

/** A small popover with the quick emoji set. */
function emojiPicker(anchor: HTMLElement, onPick: (emoji: string) => void): void {
  document.querySelector('.emoji-picker')?.remove()
  const picker = h('div', { class: 'emoji-picker', role: 'dialog', 'aria-label': 'Add a reaction' })
  const close = () => {
    picker.remove()
    document.removeEventListener('pointerdown', outside, true)
    anchor.focus()
  }
  const outside = (ev: Event) => {
    if (!picker.contains(ev.target as Node) && ev.target !== anchor) close()
  }
  for (const e of QUICK_REACTIONS) {
    const b = h('button', { type: 'button', class: 'emoji-option', 'data-emoji': e, 'aria-label': `React with ${e}` }, e)
    b.addEventListener('click', () => {
      onPick(e)
      close()
    })
    picker.append(b)
  }
  picker.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.stopPropagation()
      close()
    }
  })
  anchor.closest('.msg')?.append(picker)
  document.addEventListener('pointerdown', outside, true)
  ;(picker.firstElementChild as HTMLElement | null)?.focus()
}

function actionsBar(m: Message, a: MessageActions, where: Where): HTMLElement {
  const bar = h('div', { class: 'msg-actions', role: 'toolbar', 'aria-label': 'Message actions' })
  const btn = (action: string, label: string, content: string | Node, fn: (b: HTMLButtonElement) => void) => {
    const b = h('button', { type: 'button', class: 'msg-action', 'data-action': action, title: label, 'aria-label': label }, content)
    b.addEventListener('click', () => fn(b))
    bar.append(b)
    return b
  }
  if (a.reactions() && a.canPost()) {
    for (const e of QUICK_REACTIONS.slice(0, 3)) {
      const mine = m.reactions?.some((r) => r.emoji === e && r.users?.includes(a.me)) ?? false
      btn(`react:${e}`, mine ? `Remove ${e}` : `React with ${e}`, e, () => a.react(m, e, !mine))
    }
    btn('react-more', 'Add reaction', icon('smile'), (b) =>
      emojiPicker(b, (e) => {
        const mine = m.reactions?.some((r) => r.emoji === e && r.users?.includes(a.me)) ?? false
        a.react(m, e, !mine)
      }),
    )
  }
  if (where === 'main' && a.canPost()) btn('reply', 'Reply in thread', icon('message'), () => a.openThread(m))
  if (m.author === a.me && a.canPost()) btn('edit', 'Edit message', icon('edit'), () => a.edit(m))
  if (a.canDelete(m)) btn('delete', 'Delete message', icon('trash'), () => a.remove(m))
  return bar
}

/** (Re)build the inside of a confirmed message's element. */
export function fillMessage(el: HTMLElement, m: Message, a: MessageActions, where: Where): void {
  const author = m.author ?? 'deleted user'
  el.className = `msg${m.deleted ? ' msg-deleted' : ''}${m.author === a.me ? ' msg-own' : ''}${el.classList.contains('msg-cont') ? ' msg-cont' : ''}`
  el.dataset.id = String(m.id)
  el.dataset.seq = String(m.seq)
  el.dataset.version = String(m.version_seq)
  el.dataset.author = author
  el.dataset.clientId = m.client_id
  el.dataset.state = 'sent'
  if (m.parent_id !== null) el.dataset.parentId = String(m.parent_id)
  el.setAttribute('aria-label', `${author}, ${timeLabel(m.created_at)}`)
  if (!el.hasAttribute('tabindex')) el.tabIndex = -1
  // Re-rendering must not take the toolbar away from under the pointer, nor the focus.
  const refocus = focusKey(el)
  const hovered = el.matches(':hover')
  clear(el)
  const body = h('div', { class: 'msg-body' })
  if (m.deleted) body.append(h('span', { class: 'muted deleted-note' }, 'This message was deleted.'))
  else body.append(renderMarkup(m.body, { me: a.me }))
  el.append(
    gutter(author, m.created_at),
    h(
      'div',
      { class: 'msg-content' },
      header(author, m.created_at, m.deleted ? null : m.edited_at),
      body,
      reactionChips(m, a),
      where === 'main' ? threadLink(m, a) : null,
    ),
  )
  if (m.deleted) return
  // The hover toolbar is built on first use: thousands of messages stay light.
  const ensureBar = () => {
    if (el.querySelector(':scope > .msg-actions') || el.classList.contains('editing')) return
    el.append(actionsBar(m, a, where))
  }
  el.onmouseenter = ensureBar
  el.onfocus = ensureBar
  if (hovered || refocus) ensureBar()
  if (refocus) el.querySelector<HTMLElement>(refocus)?.focus()
}

/** A selector for the focused control inside `el`, to focus its replacement after a re-render. */
function focusKey(el: HTMLElement): string | null {
  const active = document.activeElement as HTMLElement | null
  if (!active || active === el || !el.contains(active)) return null
  if (active.dataset.action) return `[data-action="${CSS.escape(active.dataset.action)}"]`
  if (active.dataset.emoji) return `.reaction[data-emoji="${CSS.escape(active.dataset.emoji)}"]`
  if (active.classList.contains('thread-link')) return '.thread-link'
  return null
}

export function fillPending(el: HTMLElement, p: Pending, a: MessageActions, me: string): void {
  el.className = `msg msg-own msg-pending${el.classList.contains('msg-cont') ? ' msg-cont' : ''}`
  el.dataset.clientId = p.clientId
  el.dataset.state = p.state === 'failed' ? 'failed' : 'pending'
  el.dataset.author = me
  delete el.dataset.id
  delete el.dataset.seq
  el.onmouseenter = el.onfocus = null
  clear(el)
  const status =
    p.state === 'failed'
      ? h(
          'div',
          { class: 'msg-failed', role: 'alert' },
          `Not sent${p.error ? `: ${p.error}` : ''}. `,
          h('button', { type: 'button', class: 'link-button', 'data-action': 'retry', onclick: () => a.retry(p) }, 'Retry'),
          ' · ',
          h('button', { type: 'button', class: 'link-button', 'data-action': 'discard', onclick: () => a.discard(p) }, 'Discard'),
        )
      : null
  el.append(
    gutter(me, p.createdAt),
    h(
      'div',
      { class: 'msg-content' },
      header(me, p.createdAt, null, p.state === 'sending' ? h('span', { class: 'msg-sending muted' }, 'sending…') : null),
      h('div', { class: 'msg-body' }, renderMarkup(p.body, { me })),
      status,
    ),
  )
}
