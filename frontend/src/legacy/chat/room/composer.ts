// The composer: Enter sends, Shift+Enter adds a line, ↑ in an empty composer edits my last
// message. The counter appears from 9 000 characters (code points, like the server) and
// sending is blocked over the limit. The thread panel's reply box is wired the same way.

import { clear, h } from '../../dom'
import { MAX_BODY } from '../api'
import { charCount, formatNumber } from '../format'
import { autoGrow } from './elements'
import { ERROR_TEXT } from './errors'
import type { RoomView } from './index'

const COUNTER_FROM = 9_000

/** The parts of a composer that the counter updates. */
export interface ComposerControls {
  input: HTMLTextAreaElement
  counter: HTMLElement
  send: HTMLButtonElement
}

/** The text box with the counter and send button beside it. */
export function composerBox({ input, counter, send }: ComposerControls): HTMLElement {
  return h('div', { class: 'composer-box' }, input, h('div', { class: 'composer-side' }, counter, send))
}

export class Composer {
  readonly input = h('textarea', {
    id: 'composer-input', class: 'composer-input', rows: 1, 'aria-label': 'Message', autocomplete: 'off',
    enterkeyhint: 'send',
  })
  private readonly controls: ComposerControls = {
    input: this.input,
    counter: h('span', { id: 'composer-counter', class: 'composer-counter', 'aria-live': 'polite', hidden: true }),
    send: h('button', { id: 'send', type: 'submit', class: 'primary send', 'aria-label': 'Send message', title: 'Send (Enter)' }, 'Send'),
  }
  readonly form = h('form', { id: 'composer', class: 'composer' })
  /** Instead of the composer for people who are not members. */
  readonly joinBar = h('div', { id: 'join-bar', class: 'join-bar', hidden: true })

  constructor(private readonly view: RoomView) {
    this.form.append(
      composerBox(this.controls),
      h('div', { class: 'composer-hint muted', id: 'composer-hint' }, h('kbd', {}, 'Enter'), ' to send, ', h('kbd', {}, 'Shift'), '+', h('kbd', {}, 'Enter'), ' for a new line · **bold** *italic* `code` ~~strike~~ > quote'),
    )
    this.input.setAttribute('aria-describedby', 'composer-hint')
    this.attach(this.form, this.input, null)
  }

  /** Wire a composer form: sending, its keys, the counter and typing frames. */
  attach(form: HTMLFormElement, input: HTMLTextAreaElement, parentId: number | null): void {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      this.submit(input, parentId)
    })
    this.bindKeys(input, parentId)
    input.addEventListener('input', () => {
      autoGrow(input)
      this.updateCounters()
      this.view.typing.input(input.value)
    })
    input.addEventListener('blur', () => this.view.typing.stop())
  }

  focus(): void {
    if (!this.input.disabled) this.input.focus({ preventScroll: true })
  }

  /** Show the composer to those who can post, the join bar to readers of a public room. */
  updateState(): void {
    const { room } = this.view
    const canPost = this.view.canPost()
    this.form.hidden = !canPost
    this.input.disabled = !canPost
    clear(this.joinBar)
    this.joinBar.hidden = true
    if (this.view.fatal) return
    if (!this.view.isMember && !this.view.archived) {
      this.joinBar.hidden = false
      if (room?.kind === 'private' || room?.kind === 'direct') {
        this.joinBar.append('You are not a member of this room.')
      } else {
        this.joinBar.append(
          h('span', {}, 'You are reading ', h('strong', {}, room ? `#${room.name}` : 'this room'), '.'),
          h('button', { id: 'join-room', type: 'button', class: 'primary', onclick: () => void this.view.commands.join() }, 'Join room'),
        )
      }
    }
    this.updateCounters()
  }

  updateCounters(): void {
    this.renderCounter(this.controls)
    const thread = this.view.thread.controls
    if (thread) this.renderCounter(thread)
  }

  private renderCounter({ input, counter, send }: ComposerControls): void {
    const n = charCount(input.value)
    const over = n > MAX_BODY
    counter.hidden = n < COUNTER_FROM
    counter.textContent = over ? `${formatNumber(n - MAX_BODY)} too long` : `${formatNumber(MAX_BODY - n)} left`
    counter.classList.toggle('over', over)
    counter.dataset.count = String(n)
    input.setAttribute('aria-invalid', over ? 'true' : 'false')
    send.disabled = over || !input.value.trim() || !this.view.canPost()
  }

  private bindKeys(input: HTMLTextAreaElement, parentId: number | null): void {
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        ev.preventDefault()
        this.submit(input, parentId)
      } else if (ev.key === 'ArrowUp' && !input.value && parentId === null) {
        // Edit my last message, like Slack.
        const last = this.view.store.lastOwn()
        if (last) {
          ev.preventDefault()
          this.view.editor.start(last)
        }
      } else if (ev.key === 'Escape' && parentId !== null) {
        this.view.panel.toggle(null)
      }
    })
  }

  private submit(input: HTMLTextAreaElement, parentId: number | null): void {
    const body = input.value
    if (!body.trim() || !this.view.canPost()) return
    if (charCount(body) > MAX_BODY) {
      this.view.notice(ERROR_TEXT.too_long, 'error', { code: 'too_long' })
      return
    }
    if (!this.view.socket) return
    input.value = ''
    autoGrow(input)
    this.updateCounters()
    this.view.typing.stop()
    this.view.outbox.send(body, parentId)
    this.view.readMarkers.forgetUnread()
    if (parentId === null) {
      this.view.list.layout()
      this.view.list.scrollToBottom(false)
    } else this.view.thread.render()
    this.view.presence.active()
  }
}
