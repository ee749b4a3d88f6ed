// A thread: the parent message, its replies and a reply composer.
import { useEffect, useLayoutEffect, useMemo, useRef, type ReactNode } from 'react'

import { Composer } from '../composer/Composer'
import { useStore } from '../lib/store'
import { MessageCtx, type MessageContext } from '../messages/context'
import { flash, moveFocus } from '../messages/MessageList'
import { MessageRow } from '../messages/MessageRow'
import { threadRows } from '../messages/rows'
import { atBottom } from '../messages/useListScroll'
import { useReaction } from '../messages/useReaction'
import type { RoomController } from '../room/RoomController'
import type { RoomInfo } from '../room/useRoom'

interface Props {
  controller: RoomController
  info: RoomInfo
  parentId: number
  children: ReactNode
}

export function ThreadPanel({ controller, info, parentId, children }: Props) {
  const snapshot = useStore(controller.store)
  const reveal = useStore(controller.reveal)
  const parent = controller.store.message(parentId)
  const listRef = useRef<HTMLDivElement>(null)
  const stuck = useRef(true)
  const me = controller.me
  const react = useReaction(controller)
  const replies = controller.store.repliesTo(parentId) // (each new snapshot renders this again)
  const rows = threadRows(
    replies,
    snapshot.pending.filter((p) => p.parentId === parentId),
    me,
  )
  const { canPost, isOwner } = info
  const reactions = snapshot.reactionsSeen
  const replyCtx = useMemo<MessageContext>(
    () => ({ controller, me, where: 'thread', canPost, isOwner, reactions, react }),
    [controller, me, canPost, isOwner, reactions, react],
  )
  const parentCtx = useMemo<MessageContext>(() => ({ ...replyCtx, where: 'parent' }), [replyCtx])

  useLayoutEffect(() => {
    const el = listRef.current
    if (el && stuck.current) el.scrollTop = el.scrollHeight
  }, [rows])
  useEffect(() => {
    const el = listRef.current
    if (reveal?.where !== 'thread' || !el) return
    const target = el.querySelector<HTMLElement>(`.msg[data-id="${String(reveal.id)}"]`)
    if (!target) return
    target.scrollIntoView({ block: 'center' })
    flash(target)
  }, [reveal, rows])

  const count = replies.length
  return (
    <>
      {children}
      <div id="thread-parent" className="thread-parent">
        {parent ? (
          <MessageCtx.Provider value={parentCtx}>
            <MessageRow message={parent} cont={false} />
          </MessageCtx.Provider>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </div>
      <div
        ref={listRef}
        id="thread-replies"
        className="thread-replies"
        role="log"
        aria-label="Replies"
        tabIndex={-1}
        onScroll={(ev) => (stuck.current = atBottom(ev.currentTarget))}
        onKeyDown={moveFocus}
      >
        <div className="thread-count muted" id="thread-count">
          {count} {count === 1 ? 'reply' : 'replies'}
        </div>
        <MessageCtx.Provider value={replyCtx}>
          {rows.map((row) =>
            row.kind === 'message' ? (
              <MessageRow key={row.key} message={row.message} cont={row.cont} />
            ) : row.kind === 'pending' ? (
              <MessageRow key={row.key} pending={row.pending} cont={row.cont} />
            ) : null,
          )}
        </MessageCtx.Provider>
      </div>
      <Composer
        controller={controller}
        parentId={parentId}
        canPost={info.canPost}
        hidden={!info.canPost}
        placeholder="Reply…"
        onEscape={() => controller.togglePanel(null)}
      />
    </>
  )
}
