// Modal dialogs (native <dialog>: focus trap, Escape and backdrop for free).

import { ApiError } from '../api'
import { h } from '../dom'

export interface DialogSpec {
  id: string
  title: string
  body: Node[]
  submitLabel?: string
  submitClass?: string
  /** Return false (or throw) to keep the dialog open; thrown errors are shown in it. */
  onSubmit?: () => Promise<boolean | void> | boolean | void
  cancelLabel?: string
}

export interface OpenDialog {
  dialog: HTMLDialogElement
  close(): void
  showError(msg: string): void
}

export function openDialog(spec: DialogSpec): OpenDialog {
  document.getElementById(spec.id)?.remove()
  const error = h('p', { class: 'error dialog-error', role: 'alert', hidden: true })
  const titleId = `${spec.id}-title`
  const submit = spec.onSubmit
    ? h('button', { type: 'submit', class: spec.submitClass ?? 'primary', 'data-role': 'submit' }, spec.submitLabel ?? 'OK')
    : null
  const cancel = h('button', { type: 'button', 'data-role': 'cancel' }, spec.cancelLabel ?? (spec.onSubmit ? 'Cancel' : 'Close'))
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    h('h2', { id: titleId }, spec.title),
    ...spec.body,
    error,
    h('div', { class: 'dialog-buttons' }, cancel, submit),
  )
  const dialog = h('dialog', { id: spec.id, class: 'dialog', 'aria-labelledby': titleId }, form)
  const close = () => {
    if (dialog.open) dialog.close()
    dialog.remove()
  }
  const showError = (msg: string) => {
    error.textContent = msg
    error.hidden = false
  }
  cancel.addEventListener('click', close)
  dialog.addEventListener('close', () => dialog.remove())
  dialog.addEventListener('click', (ev) => {
    if (ev.target === dialog) close() // backdrop
  })
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    if (!spec.onSubmit || !submit) return
    error.hidden = true
    submit.disabled = true
    try {
      const keep = await spec.onSubmit()
      if (keep !== false) close()
    } catch (e) {
      showError(e instanceof ApiError ? e.message : String(e))
    } finally {
      submit.disabled = false
    }
  })
  document.body.append(dialog)
  dialog.showModal()
  const first = form.querySelector<HTMLElement>('input, select, textarea, button[data-autofocus]')
  first?.focus()
  return { dialog, close, showError }
}

export function confirmDialog(id: string, title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false
    const d = openDialog({
      id,
      title,
      body: [h('p', {}, text)],
      submitLabel: confirmLabel,
      submitClass: 'danger',
      onSubmit: () => {
        done = true
        resolve(true)
      },
    })
    d.dialog.addEventListener('close', () => {
      if (!done) resolve(false)
    })
    d.dialog.querySelector<HTMLButtonElement>('[data-role="submit"]')?.focus()
  })
}
