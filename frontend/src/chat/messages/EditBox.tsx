// Editing a message in place: Enter saves, Shift+Enter adds a line, Escape cancels.
import { useEffect, useLayoutEffect, useRef, useState } from 'react'

import type { Message } from '../api'
import { autoGrow } from '../composer/Composer'
import type { EditState } from '../room/Edits'
import type { RoomController } from '../room/RoomController'

export function EditBox({
  m,
  edit,
  controller,
}: {
  m: Message
  edit: EditState
  controller: RoomController
}) {
  const [value, setValue] = useState(m.body)
  const input = useRef<HTMLTextAreaElement>(null)
  useLayoutEffect(() => autoGrow(input.current), [value])
  useEffect(() => {
    const t = input.current
    if (!t) return
    t.focus()
    t.setSelectionRange(t.value.length, t.value.length)
  }, [])
  useEffect(() => {
    if (edit.error) input.current?.focus()
  }, [edit.error])
  const cancel = () => {
    controller.edits.cancel()
    document.getElementById(edit.where === 'main' ? 'composer-input' : 'thread-input')?.focus()
  }
  return (
    <form
      className="msg-edit"
      onSubmit={(ev) => {
        ev.preventDefault()
        controller.edits.save(m, value)
      }}
    >
      <textarea
        ref={input}
        className="msg-edit-input"
        aria-label="Edit message"
        rows={1}
        value={value}
        disabled={edit.saving}
        onChange={(ev) => setValue(ev.target.value)}
        onKeyDown={(ev) => {
          if (ev.key === 'Escape') {
            ev.preventDefault()
            ev.stopPropagation()
            cancel()
          } else if (ev.key === 'Enter' && !ev.shiftKey && !ev.nativeEvent.isComposing) {
            ev.preventDefault()
            controller.edits.save(m, value)
          }
        }}
      />
      <div className="msg-edit-buttons">
        <button type="button" data-action="cancel" onClick={cancel}>
          Cancel
        </button>
        <button type="submit" className="primary" data-action="save" disabled={edit.saving}>
          Save
        </button>
        <span className="muted msg-edit-state" aria-live="polite">
          {edit.saving ? 'Saving…' : (edit.error ?? 'Esc to cancel · Enter to save')}
        </span>
      </div>
    </form>
  )
}
