// Editing a message in place (Enter saves, Esc cancels; the box stays until the server's
// change frame confirms the edit) and deleting one after a confirmation.

import { h } from '../../dom'
import { MAX_BODY, type Message } from '../api'
import { confirmDialog } from '../dialogs'
import { charCount } from '../format'
import { plainText } from '../markup'
import { fillMessage, type Where } from '../message-el'
import { autoGrow, messageKey } from './elements'
import { ERROR_TEXT } from './errors'
import type { RoomView } from './index'

const SAVE_TIMEOUT_MS = 10_000

interface Edit {
  id: number
  el: HTMLElement
  /** The message's version when saving: a change frame with a higher one confirms the save. */
  version: number
  saving: boolean
  finish(): void
  fail(): void
}

export class MessageEditor {
  private editing: Edit | null = null

  constructor(private readonly view: RoomView) {}

  /** Is `el` the edit box of message `id`? (Re-rendering it would throw the edit away.) */
  isEditing(id: number, el: HTMLElement): boolean {
    return this.editing?.id === id && this.editing.el === el
  }

  holds(el: HTMLElement): boolean {
    return this.editing?.el === el
  }

  /** A change of `m` arrived: if it is the edit being saved, the edit is done. */
  changed(m: Message): void {
    if (this.editing?.saving && this.editing.id === m.id && m.version_seq > this.editing.version) this.editing.finish()
  }

  /** The server refused something while an edit was saving: assume it was the edit. */
  refused(): void {
    if (this.editing?.saving) this.editing.fail()
  }

  start(m: Message, where: Where = 'main'): void {
    const { view } = this
    const el = (where === 'main' ? view.list.els : view.thread.els).get(messageKey(m.id))
    if (!el || m.deleted || m.author !== view.me) return
    this.editing?.finish()
    const body = el.querySelector<HTMLElement>('.msg-body')
    if (!body) return
    el.querySelector(':scope > .msg-actions')?.remove()
    el.classList.add('editing')
    const input = h('textarea', { class: 'msg-edit-input', 'aria-label': 'Edit message', rows: 1 })
    input.value = m.body
    const save = h('button', { type: 'submit', class: 'primary', 'data-action': 'save' }, 'Save')
    const cancel = h('button', { type: 'button', 'data-action': 'cancel' }, 'Cancel')
    const state = h('span', { class: 'muted msg-edit-state', 'aria-live': 'polite' }, 'Esc to cancel · Enter to save')
    const form = h('form', { class: 'msg-edit' }, input, h('div', { class: 'msg-edit-buttons' }, cancel, save, state))
    body.replaceWith(form)
    let timer: number | undefined
    const edit: Edit = {
      id: m.id,
      el,
      version: m.version_seq,
      saving: false,
      finish: () => {
        window.clearTimeout(timer)
        el.classList.remove('editing')
        if (this.editing === edit) this.editing = null
        const cur = view.store.get(m.id)
        if (cur) {
          if (where === 'main') fillMessage(el, cur, view.messageActions('main'), 'main')
          else view.thread.render()
        }
      },
      fail: () => {
        window.clearTimeout(timer)
        edit.saving = false
        input.disabled = save.disabled = false
        state.textContent = 'Not saved — try again.'
        input.focus()
      },
    }
    this.editing = edit
    const submit = () => {
      const next = input.value
      if (!next.trim() || next === m.body) return edit.finish()
      if (charCount(next) > MAX_BODY) {
        state.textContent = ERROR_TEXT.too_long
        return
      }
      edit.version = view.store.get(m.id)?.version_seq ?? m.version_seq
      if (!view.socket?.send({ type: 'message.edit', id: m.id, body: next })) return view.notifyOffline()
      edit.saving = true
      input.disabled = save.disabled = true
      state.textContent = 'Saving…'
      timer = window.setTimeout(() => edit.saving && edit.fail(), SAVE_TIMEOUT_MS)
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      submit()
    })
    cancel.addEventListener('click', () => edit.finish())
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault()
        ev.stopPropagation()
        edit.finish()
        ;(where === 'main' ? view.composer.input : view.thread.controls?.input)?.focus()
      } else if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault()
        submit()
      }
    })
    input.addEventListener('input', () => autoGrow(input))
    input.focus()
    input.setSelectionRange(input.value.length, input.value.length)
    autoGrow(input)
  }

  async delete(m: Message): Promise<void> {
    const preview = plainText(m.body, 80)
    const mine = m.author === this.view.me
    const ok = await confirmDialog('delete-dialog', 'Delete message?', mine ? `Delete “${preview}”? This cannot be undone.` : `Delete ${m.author}'s message “${preview}”? This cannot be undone.`, 'Delete')
    if (!ok) return
    if (!this.view.socket?.send({ type: 'message.delete', id: m.id })) this.view.notifyOffline()
  }
}
