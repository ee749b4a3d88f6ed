import { describe, expect, it, vi } from 'vitest'

import type { Message } from '../api'
import { MessageStore, type Pending } from './MessageStore'
import { buildRows, messageKey, pendingKey } from './rows'

let nextId = 1
function msg(seq: number, over: Partial<Message> = {}): Message {
  const id = over.id ?? nextId++
  return {
    id,
    seq,
    created_version: seq,
    version_seq: seq,
    client_id: `cid-${id}`,
    author: 'bob',
    body: `m${seq}`,
    parent_id: null,
    reply_count: 0,
    reactions: [],
    created_at: '2026-03-02T10:00:00Z',
    edited_at: null,
    deleted: false,
    ...over,
  }
}

const pending = (clientId: string, over: Partial<Pending> = {}): Pending => ({
  clientId,
  body: 'hi',
  parentId: null,
  createdAt: '2026-03-02T10:01:00Z',
  state: 'sending',
  ...over,
})

describe('MessageStore', () => {
  it('keeps top-level messages in seq order whatever order they arrive in', () => {
    const store = new MessageStore('me')
    store.batch(() => {
      for (const seq of [5, 2, 9, 1]) store.put(msg(seq), false)
    })
    expect(store.get().top.map((m) => m.seq)).toEqual([1, 2, 5, 9])
    expect(store.get().maxSeq).toBe(9)
    expect(store.oldestSeq()).toBe(1)
  })

  it('keeps replies apart and counts live ones on the parent', () => {
    const store = new MessageStore('me')
    const parent = msg(1, { id: 100, reply_count: 0 })
    store.put(parent, false)
    store.put(msg(2, { parent_id: 100, created_version: 5 }), true)
    expect(store.get().top).toHaveLength(1)
    expect(store.message(100)?.reply_count).toBe(1)
    expect(store.repliesTo(100).map((m) => m.seq)).toEqual([2])
  })

  it('takes a change only when it is newer', () => {
    const store = new MessageStore('me')
    store.put(msg(1, { id: 7, version_seq: 4, body: 'new' }), true)
    expect(store.put(msg(1, { id: 7, version_seq: 3, body: 'old' }), true)).toBe(false)
    expect(store.put(msg(1, { id: 7, version_seq: 4, body: 'page' }), false)).toBe(false)
    expect(store.message(7)?.body).toBe('new')
  })

  it('confirms my pending send when its message arrives', () => {
    const confirmed = vi.fn()
    const store = new MessageStore('me', confirmed)
    store.addPending(pending('c-1'))
    const mine = msg(3, { author: 'me', client_id: 'c-1' })
    store.put(mine, true)
    expect(store.get().pending).toEqual([])
    expect(confirmed).toHaveBeenCalledWith(expect.objectContaining({ clientId: 'c-1' }), mine)
    // the row keeps its key: no new element when the server confirms
    expect(messageKey(mine)).toBe(pendingKey(pending('c-1'), 'me'))
  })

  it('tells subscribers once per batch and hands out a new snapshot only after a change', () => {
    const store = new MessageStore('me')
    const listener = vi.fn()
    store.subscribe(listener)
    const before = store.get()
    store.batch(() => {
      store.put(msg(1), false)
      store.put(msg(2), false)
    })
    expect(listener).toHaveBeenCalledTimes(1)
    const after = store.get()
    expect(after).not.toBe(before)
    expect(store.get()).toBe(after)
  })

  it('rolls an optimistic reaction back unless the server spoke meanwhile', () => {
    const store = new MessageStore('me')
    store.put(msg(1, { id: 9 }), false)
    const undo = store.optimisticReaction(9, '👍', true)
    expect(store.message(9)?.reactions).toEqual([{ emoji: '👍', count: 1, users: ['me'] }])
    undo()
    expect(store.message(9)?.reactions).toEqual([])
    const undo2 = store.optimisticReaction(9, '👍', true)
    store.put(
      msg(1, { id: 9, version_seq: 5, reactions: [{ emoji: '👍', count: 2, users: ['me', 'x'] }] }),
      true,
    )
    undo2()
    expect(store.message(9)?.reactions?.[0]?.count).toBe(2)
  })

  it('finds my last message for ↑', () => {
    const store = new MessageStore('me')
    store.put(msg(1, { author: 'me', id: 1 }), false)
    store.put(msg(2, { author: 'me', id: 2, deleted: true }), false)
    store.put(msg(3, { author: 'bob', id: 3 }), false)
    expect(store.lastOwn()?.id).toBe(1)
  })
})

describe('buildRows', () => {
  const now = new Date('2026-03-02T18:00:00Z')

  it('puts day dividers, the unread line and groups in order', () => {
    const top = [
      msg(1, { created_at: '2026-02-27T09:00:00Z' }),
      msg(2, { created_at: '2026-03-02T09:00:00Z' }),
      msg(3, { created_at: '2026-03-02T09:01:00Z' }),
      msg(4, { created_at: '2026-03-02T09:02:00Z' }),
      msg(5, { created_at: '2026-03-02T09:03:00Z', author: 'carol' }),
    ]
    const rows = buildRows(top, [pending('p')], 2, 'me', now)
    expect(rows.map((r) => (r.kind === 'message' ? `${r.message.seq}${r.cont ? '+' : ''}` : r.kind))).toEqual(
      ['day', '1', 'day', '2', 'unread', '3', '4+', '5', 'pending'],
    )
    const days = rows.filter((r) => r.kind === 'day')
    expect(days[1]).toMatchObject({ label: 'Today' })
  })

  it('never puts the unread line above my own message', () => {
    const top = [msg(1), msg(2, { author: 'me' }), msg(3)]
    const rows = buildRows(top, [], 1, 'me', now)
    const i = rows.findIndex((r) => r.kind === 'unread')
    expect(rows[i + 1]).toMatchObject({ kind: 'message', message: { seq: 3 } })
  })

  it('groups a pending send under my previous message', () => {
    const rows = buildRows(
      [msg(1, { author: 'me', created_at: '2026-03-02T10:00:30Z' })],
      [pending('p')],
      null,
      'me',
      now,
    )
    expect(rows[rows.length - 1]).toMatchObject({ kind: 'pending', cont: true })
  })
})
