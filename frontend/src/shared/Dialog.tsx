import { useEffect, useId, useRef, type ReactNode } from 'react'

import { focusMainIfLost } from './focus'

interface DialogProps {
  open: boolean
  title: string
  onClose: () => void
  children: ReactNode
  id?: string
  className?: string
}

/**
 * A modal dialog on the native <dialog>: the browser keeps focus inside and closes it on
 * Escape; focus moves to the first field (or the one marked data-autofocus) when it opens and
 * back to where it was when it closes. (Not React's autoFocus: it would move the focus before
 * this dialog could note where it was.)
 */
export function Dialog({ open, title, onClose, children, id, className }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  useEffect(() => {
    const dialog = ref.current
    if (!dialog || !open) return
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (!dialog.open) dialog.showModal()
    const first = dialog.querySelector<HTMLElement>('[data-autofocus], input, select, textarea, button')
    first?.focus()
    return () => {
      if (dialog.open) dialog.close()
      if (opener?.isConnected) opener.focus()
      else focusMainIfLost()
    }
  }, [open])
  if (!open) return null
  return (
    <dialog
      ref={ref}
      id={id}
      className={`dialog ${className ?? ''}`}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault()
        onClose()
      }}
      onClick={(event) => {
        // A click on the backdrop reaches the <dialog> itself, outside its box.
        if (event.target !== event.currentTarget) return
        const box = event.currentTarget.getBoundingClientRect()
        const inside =
          event.clientX >= box.left &&
          event.clientX <= box.right &&
          event.clientY >= box.top &&
          event.clientY <= box.bottom
        if (!inside) onClose()
      }}
    >
      <h2 id={titleId} className="dialog-title">
        {title}
      </h2>
      {children}
    </dialog>
  )
}

interface ConfirmProps {
  open: boolean
  title: string
  message: ReactNode
  confirmLabel: string
  onConfirm: () => void
  onClose: () => void
  busy?: boolean
  danger?: boolean
  error?: ReactNode
  id?: string
}

export function ConfirmDialog({
  open,
  title,
  message,
  confirmLabel,
  onConfirm,
  onClose,
  busy,
  danger,
  error,
  id,
}: ConfirmProps) {
  return (
    <Dialog open={open} title={title} onClose={onClose} id={id}>
      <div className="dialog-body">{message}</div>
      {error}
      <div className="dialog-actions">
        <button type="button" data-role="cancel" onClick={onClose} data-autofocus>
          Cancel
        </button>
        <button
          type="button"
          data-role="submit"
          className={danger ? 'danger' : 'primary'}
          onClick={onConfirm}
          disabled={busy}
        >
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  )
}
