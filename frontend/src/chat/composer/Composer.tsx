// The composer: Enter sends, Shift+Enter adds a line, ↑ in an empty composer edits my last
// message, Escape closes the thread a reply box belongs to. The counter appears from 9,000
// characters and says the limit; sending is blocked over 10,000. The thread's reply box is
// this same component with other ids.
import { useEffect, useLayoutEffect, useRef, useState } from 'react'

import type { RoomController } from '../room/RoomController'
import { ERROR_TEXT } from '../room/errors'
import { counterFor } from './counter'

interface Props {
  controller: RoomController
  parentId: number | null
  canPost: boolean
  hidden?: boolean
  placeholder: string
  onEscape?: () => void
}

export function Composer({ controller, parentId, canPost, hidden, placeholder, onEscape }: Props) {
  const [value, setValue] = useState('')
  const input = useRef<HTMLTextAreaElement>(null)
  const main = parentId === null
  const ids = main
    ? { form: 'composer', input: 'composer-input', counter: 'composer-counter', send: 'send' }
    : { form: 'thread-composer', input: 'thread-input', counter: 'thread-counter', send: 'thread-send' }
  const counter = counterFor(value)

  useLayoutEffect(() => autoGrow(input.current), [value])
  useEffect(() => {
    // Focus the composer once posting is possible (the room opened, or the reader joined).
    if (canPost && !hidden) input.current?.focus({ preventScroll: true })
  }, [canPost, hidden])

  const submit = () => {
    if (!value.trim() || !canPost) return
    if (counter.over) {
      controller.notice(ERROR_TEXT.too_long, 'error', { code: 'too_long' })
      return
    }
    controller.post(value, parentId)
    setValue('')
  }

  return (
    <form
      id={ids.form}
      className="composer"
      hidden={hidden}
      onSubmit={(ev) => {
        ev.preventDefault()
        submit()
      }}
    >
      <div className="composer-box">
        <textarea
          ref={input}
          id={ids.input}
          className="composer-input"
          rows={1}
          aria-label={main ? 'Message' : 'Reply'}
          aria-describedby={main ? 'composer-hint' : undefined}
          aria-invalid={counter.over}
          autoComplete="off"
          enterKeyHint="send"
          placeholder={placeholder}
          disabled={!canPost}
          value={value}
          onChange={(ev) => {
            setValue(ev.target.value)
            controller.typing.input(ev.target.value)
          }}
          onBlur={() => controller.typing.stop()}
          onKeyDown={(ev) => {
            const plain = !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey
            if (ev.key === 'Enter' && plain && !ev.nativeEvent.isComposing) {
              ev.preventDefault()
              submit()
            } else if (ev.key === 'ArrowUp' && plain && !value && main) {
              const last = controller.store.lastOwn()
              if (last) {
                ev.preventDefault()
                controller.edits.start(last, 'main')
              }
            } else if (ev.key === 'Escape' && onEscape) {
              ev.preventDefault()
              onEscape()
            }
          }}
        />
        <div className="composer-side">
          <span
            id={ids.counter}
            className={counter.over ? 'composer-counter over' : 'composer-counter'}
            aria-live="polite"
            data-count={counter.count}
            hidden={!counter.visible}
          >
            {counter.visible ? counter.text : ''}
          </span>
          <button
            id={ids.send}
            type="submit"
            className="primary send"
            aria-label={main ? 'Send message' : 'Send reply'}
            title="Send (Enter)"
            disabled={counter.over || !value.trim() || !canPost}
          >
            {main ? 'Send' : 'Reply'}
          </button>
        </div>
      </div>
      {main && (
        <div className="composer-hint muted" id="composer-hint">
          <kbd>Enter</kbd> to send, <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line · **bold** *italic*
          `code` ~~strike~~ &gt; quote
        </div>
      )}
    </form>
  )
}

/** Grow a textarea with its text, up to 40% of the window. */
export function autoGrow(t: HTMLTextAreaElement | null): void {
  if (!t) return
  t.style.height = 'auto'
  t.style.height = `${String(Math.min(t.scrollHeight, Math.round(window.innerHeight * 0.4)))}px`
}
