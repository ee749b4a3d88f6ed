// The scroll position of a message log: it starts at the "New messages" line (else at the
// bottom), follows new messages while at the bottom ("N new messages ↓" counts them otherwise),
// keeps what the reader looks at in place when older pages come in above, and asks for older
// pages near the top.
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react'

import type { Message } from '../api'
import type { RoomController } from '../room/RoomController'
import type { Pending } from './MessageStore'

/** Closer than this to the bottom counts as at the bottom. */
export const AT_BOTTOM_PX = 48
/** Closer than this to the top loads the previous page. */
export const LOAD_OLDER_PX = 300

interface Anchor {
  id: string
  top: number
}

export function atBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM_PX
}

export function useListScroll(
  listRef: RefObject<HTMLDivElement | null>,
  controller: RoomController,
  top: readonly Message[],
  pending: readonly Pending[],
  ready: boolean,
  canLoadOlder: boolean,
) {
  const stuck = useRef(true)
  const placed = useRef(false)
  const anchor = useRef<Anchor | null>(null)
  const seen = useRef({ maxSeq: 0, pending: 0 })
  const [missed, setMissed] = useState(0)

  const scrollToBottom = useCallback(
    (smooth = false) => {
      const el = listRef.current
      if (!el) return
      el.scrollTo({ top: el.scrollHeight, behavior: smooth ? 'smooth' : 'auto' })
      stuck.current = true
      setMissed(0)
    },
    [listRef],
  )

  useLayoutEffect(() => {
    const el = listRef.current
    if (!el || !ready) return
    const maxSeq = top.at(-1)?.seq ?? 0
    if (!placed.current) {
      placed.current = true
      const divider = el.querySelector<HTMLElement>('#unread-divider')
      if (divider) el.scrollTop = Math.max(0, divider.offsetTop - 80)
      if (!divider || atBottom(el)) scrollToBottom()
      else stuck.current = false
    } else {
      // Older messages came in above: keep the one that was first where it was.
      const old = anchor.current
      const oldEl = old && el.querySelector<HTMLElement>(`[data-id="${old.id}"]`)
      if (old && oldEl && top[0] && String(top[0].id) !== old.id) el.scrollTop += oldEl.offsetTop - old.top
      const newOnes = top.filter((m) => m.seq > seen.current.maxSeq && m.author !== controller.me).length
      if (pending.length > seen.current.pending || stuck.current) scrollToBottom()
      else if (newOnes && seen.current.maxSeq) setMissed((n) => n + newOnes)
    }
    const first = top[0] ? el.querySelector<HTMLElement>(`[data-id="${String(top[0].id)}"]`) : null
    anchor.current = first && top[0] ? { id: String(top[0].id), top: first.offsetTop } : null
    seen.current = { maxSeq: Math.max(seen.current.maxSeq, maxSeq), pending: pending.length }
  }, [listRef, controller, top, pending, ready, scrollToBottom])

  // Near the top (or a list shorter than its box): the previous page.
  useEffect(() => {
    const el = listRef.current
    if (el && ready && canLoadOlder && el.scrollTop < LOAD_OLDER_PX) void controller.history.loadOlder()
  }, [listRef, controller, ready, canLoadOlder, top])

  // A panel opening, the typing line or a growing composer shrink the list: stay at the bottom.
  useEffect(() => {
    const el = listRef.current
    if (!el) return
    const observer = new ResizeObserver(() => {
      if (stuck.current) el.scrollTop = el.scrollHeight
    })
    observer.observe(el)
    return () => observer.disconnect()
  }, [listRef])

  const onScroll = useCallback(() => {
    const el = listRef.current
    if (!el) return
    if (el.scrollTop < LOAD_OLDER_PX && canLoadOlder) void controller.history.loadOlder()
    stuck.current = atBottom(el)
    if (stuck.current) setMissed(0)
    controller.scheduleRead()
  }, [listRef, controller, canLoadOlder])

  /** The seq of the newest message the reader can see (all of them, replies too, at the bottom). */
  useEffect(() => {
    controller.setVisibleSeq(() => {
      const el = listRef.current
      const snapshot = controller.store.get()
      if (!el || atBottom(el)) return snapshot.maxSeq
      const bottom = el.getBoundingClientRect().bottom
      const msgs = el.querySelectorAll<HTMLElement>(':scope > .msg[data-id]')
      for (let i = msgs.length - 1; i >= 0; i--) {
        if (msgs[i].getBoundingClientRect().top < bottom) return Number(msgs[i].dataset.seq ?? 0)
      }
      return 0
    })
  }, [controller, listRef])

  /** Take the position as it is now (after scrolling to a message). */
  const remember = useCallback(() => {
    const el = listRef.current
    if (el) stuck.current = atBottom(el)
  }, [listRef])

  return { missed, onScroll, scrollToBottom, remember }
}
