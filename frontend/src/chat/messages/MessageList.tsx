// The room's message log (#message-list): top-level messages in seq order with day and unread
// dividers and my pending sends last; ↑/↓ move between messages.
import { useEffect, useMemo, useRef, type KeyboardEvent } from 'react'

import { useStore } from '../lib/store'
import type { RoomController } from '../room/RoomController'
import type { RoomInfo } from '../room/useRoom'
import { MessageCtx, type MessageContext } from './context'
import { HistoryTop } from './HistoryTop'
import { MessageRow } from './MessageRow'
import { buildRows } from './rows'
import { useListScroll } from './useListScroll'
import { useReaction } from './useReaction'

export function MessageList({ controller, info }: { controller: RoomController; info: RoomInfo }) {
  const snapshot = useStore(controller.store)
  const unreadFrom = useStore(controller.unreadFrom)
  const history = useStore(controller.history.state)
  const ready = useStore(controller.ready)
  const reveal = useStore(controller.reveal)
  const listRef = useRef<HTMLDivElement>(null)
  const me = controller.me
  const pending = useMemo(() => snapshot.pending.filter((p) => p.parentId === null), [snapshot.pending])
  const rows = useMemo(
    () => buildRows(snapshot.top, pending, unreadFrom, me),
    [snapshot.top, pending, unreadFrom, me],
  )
  const { missed, onScroll, scrollToBottom, remember } = useListScroll(
    listRef,
    controller,
    snapshot.top,
    pending,
    ready,
    history === 'more',
  )
  const react = useReaction(controller)
  const ctx = useMemo<MessageContext>(
    () => ({
      controller,
      me,
      where: 'main',
      canPost: info.canPost,
      isOwner: info.isOwner,
      reactions: snapshot.reactionsSeen,
      react,
    }),
    [controller, me, info.canPost, info.isOwner, snapshot.reactionsSeen, react],
  )

  useEffect(() => {
    const el = listRef.current
    if (reveal?.where !== 'main' || !el) return
    const target = el.querySelector<HTMLElement>(`.msg[data-id="${String(reveal.id)}"]`)
    if (!target) return
    target.scrollIntoView({ block: 'center' })
    remember()
    target.focus({ preventScroll: true })
    flash(target)
  }, [reveal, remember])

  const title = info.kind === 'direct' ? info.title : `#${info.title}`
  return (
    <div className="message-scroller">
      <div
        ref={listRef}
        id="message-list"
        className="message-list"
        role="log"
        aria-label="Messages"
        aria-live="polite"
        aria-relevant="additions"
        aria-busy={!ready || history === 'loading'}
        tabIndex={0}
        data-count={snapshot.top.length}
        onScroll={onScroll}
        onKeyDown={moveFocus}
      >
        <HistoryTop state={history} title={title} />
        <MessageCtx.Provider value={ctx}>
          {rows.map((row) => {
            switch (row.kind) {
              case 'day':
                return (
                  <div key={row.key} className="day-divider" role="separator" data-day={row.day}>
                    <span>{row.label}</span>
                  </div>
                )
              case 'unread':
                return (
                  <div key={row.key} id="unread-divider" className="unread-divider" role="separator">
                    <span>New messages</span>
                  </div>
                )
              case 'message':
                return (
                  <MessageRow
                    key={row.key}
                    message={row.message}
                    cont={row.cont}
                    replyCount={controller.store.replyCount(row.message)}
                  />
                )
              case 'pending':
                return <MessageRow key={row.key} pending={row.pending} cont={row.cont} />
            }
          })}
        </MessageCtx.Provider>
      </div>
      <button
        id="jump-latest"
        type="button"
        className="jump-latest"
        hidden={missed === 0}
        onClick={() => {
          scrollToBottom(true)
          document.getElementById('composer-input')?.focus({ preventScroll: true })
        }}
      >
        {missed} new message{missed === 1 ? '' : 's'} ↓
      </button>
    </div>
  )
}

/** ↑/↓ move the focus between the messages of a list. */
export function moveFocus(ev: KeyboardEvent<HTMLElement>): void {
  if (ev.key !== 'ArrowUp' && ev.key !== 'ArrowDown') return
  const target = ev.target as HTMLElement
  if (target.closest('.msg-edit, .emoji-picker, textarea, input')) return
  const msgs = [...ev.currentTarget.querySelectorAll<HTMLElement>(':scope > .msg')]
  if (!msgs.length) return
  const cur = target.closest<HTMLElement>('.msg')
  let i = cur ? msgs.indexOf(cur) : msgs.length
  i = ev.key === 'ArrowUp' ? Math.max(0, i - 1) : Math.min(msgs.length - 1, i + 1)
  ev.preventDefault()
  msgs[i].focus()
}

/** Highlight a message for a moment (a search result or a link to it). */
export function flash(el: HTMLElement): void {
  el.classList.remove('flash')
  el.getBoundingClientRect() // restart the animation
  el.classList.add('flash')
  window.setTimeout(() => el.classList.remove('flash'), 2500)
}
