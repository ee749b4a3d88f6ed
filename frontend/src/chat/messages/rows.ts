// The rows of a message list in order: day dividers, the "New messages" line, messages
// (with `cont` when they continue the previous author's group) and my pending sends last.
import type { Message } from '../api'
import { dayKey, dayLabel, minutesBetween } from '../lib/format'
import type { Pending } from './MessageStore'

/** Messages by one author this close together share one header. */
export const GROUP_MINUTES = 5

export type Row =
  | { kind: 'day'; key: string; day: string; label: string }
  | { kind: 'unread'; key: 'unread' }
  | { kind: 'message'; key: string; message: Message; cont: boolean }
  | { kind: 'pending'; key: string; pending: Pending; cont: boolean }

/**
 * The React key of a message: my own messages keep the key of the pending send they came
 * from (author + client id), so the element is not rebuilt when the server confirms it.
 */
export function messageKey(m: Message): string {
  return m.client_id ? `c:${m.author ?? ''}:${m.client_id}` : `m:${m.id}`
}

export function pendingKey(p: Pending, me: string): string {
  return `c:${me}:${p.clientId}`
}

function continues(prev: Message | null, m: Message): boolean {
  return (
    !!prev &&
    prev.author === m.author &&
    !prev.deleted &&
    !m.deleted &&
    minutesBetween(prev.created_at, m.created_at) < GROUP_MINUTES
  )
}

export function buildRows(
  top: readonly Message[],
  pending: readonly Pending[],
  unreadFrom: number | null,
  me: string,
  now = new Date(),
): Row[] {
  const rows: Row[] = []
  let prev: Message | null = null
  let unreadPlaced = false
  for (const m of top) {
    const day = dayKey(m.created_at)
    let divided = false
    if (!prev || dayKey(prev.created_at) !== day) {
      rows.push({ kind: 'day', key: `day:${day}`, day, label: dayLabel(m.created_at, now) })
      divided = true
    }
    if (!unreadPlaced && unreadFrom !== null && m.seq > unreadFrom && m.author !== me) {
      rows.push({ kind: 'unread', key: 'unread' })
      unreadPlaced = true
      divided = true
    }
    rows.push({ kind: 'message', key: messageKey(m), message: m, cont: !divided && continues(prev, m) })
    prev = m
  }
  let prevAuthor = prev?.author ?? null
  let prevTime = prev?.created_at ?? ''
  for (const p of pending) {
    const cont = prevAuthor === me && !!prevTime && minutesBetween(prevTime, p.createdAt) < GROUP_MINUTES
    rows.push({ kind: 'pending', key: pendingKey(p, me), pending: p, cont })
    prevAuthor = me
    prevTime = p.createdAt
  }
  return rows
}

/** A thread's replies: no dividers, grouped like the main list. */
export function threadRows(replies: readonly Message[], pending: readonly Pending[], me: string): Row[] {
  const rows: Row[] = []
  let prev: Message | null = null
  for (const m of replies) {
    rows.push({ kind: 'message', key: messageKey(m), message: m, cont: continues(prev, m) })
    prev = m
  }
  for (const p of pending) rows.push({ kind: 'pending', key: pendingKey(p, me), pending: p, cont: false })
  return rows
}
