import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { act, render } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeAll, describe, expect, it, vi } from 'vitest'

import { chatApi, type Message } from '../api'
import { RoomController } from '../room/RoomController'
import type { RoomInfo } from '../room/useRoom'
import { installFakeWebSocket } from '../testing/FakeWebSocket'
import { MessageList } from './MessageList'

vi.mock('../../shared/people', () => ({ usePerson: () => undefined }))

beforeAll(() => {
  // jsdom has no layout: no ResizeObserver, no scrolling.
  if (!('ResizeObserver' in globalThis)) {
    Object.assign(globalThis, {
      ResizeObserver: class {
        observe() {}
        unobserve() {}
        disconnect() {}
      },
    })
  }
  for (const name of ['scrollTo', 'scrollIntoView'] as const) {
    if (!(name in Element.prototype))
      Object.defineProperty(Element.prototype, name, { value: () => undefined })
  }
})

const msg = (seq: number, over: Partial<Message> = {}): Message => ({
  id: 100 + seq,
  seq,
  created_version: seq,
  version_seq: seq,
  client_id: `c${String(seq)}`,
  author: 'bob',
  body: `**m${String(seq)}**`,
  parent_id: null,
  reply_count: 0,
  reactions: [],
  created_at: '2026-03-02T10:00:00Z',
  edited_at: null,
  deleted: false,
  ...over,
})

const info: RoomInfo = {
  room: null,
  kind: 'public',
  title: 'general',
  isMember: true,
  isOwner: false,
  archived: false,
  fatal: null,
  canPost: true,
}

async function renderList(messages: Message[], lastRead: number | null) {
  installFakeWebSocket()
  const api = { ...chatApi, messages: vi.fn().mockResolvedValue({ messages, has_more: false }) }
  const inbox = { setActive: vi.fn(), noteActivity: vi.fn(), markRead: vi.fn(), refresh: vi.fn() }
  const controller = new RoomController(1, { me: 'me', inbox, patchRoom: vi.fn(), api })
  controller.setAccess({ isMember: true, canPost: true })
  const queryClient = new QueryClient()
  const view = render(
    <QueryClientProvider client={queryClient}>
      <MessageList controller={controller} info={info} />
    </QueryClientProvider>,
  )
  const unread = lastRead === null ? 0 : 1
  await act(() =>
    controller.start({
      id: 1,
      name: 'g',
      kind: 'public',
      last_seq: 9,
      last_version: 9,
      last_read_seq: lastRead ?? 9,
      unread,
    }),
  )
  return { controller, ...view }
}

const order = (container: HTMLElement) =>
  [...(container.querySelector('#message-list')?.children ?? [])].map((el) =>
    el.id
      ? `#${el.id}`
      : el.classList.contains('day-divider')
        ? 'day'
        : `msg:${el.getAttribute('data-seq') ?? 'pending'}`,
  )

describe('MessageList', () => {
  it('orders messages by seq under day and unread dividers, replies left to their thread', async () => {
    const { container } = await renderList(
      [
        msg(3, { created_at: '2026-03-02T10:05:00Z', reply_count: 1 }),
        msg(1, { created_at: '2026-03-01T09:00:00Z' }),
        msg(2, { created_at: '2026-03-02T10:00:00Z', author: 'carol' }),
        msg(4, { parent_id: 103, created_at: '2026-03-02T10:06:00Z' }),
      ],
      1,
    )
    expect(order(container)).toEqual([
      '#history-top',
      'day',
      'msg:1',
      'day',
      '#unread-divider',
      'msg:2',
      'msg:3',
    ])
    expect(container.querySelector('#unread-divider + .msg')).toHaveAttribute('data-seq', '2')
    expect(container.querySelector('#history-top')).toHaveAttribute('data-state', 'start')
    expect(container.querySelector('.msg[data-seq="2"] .msg-body strong')).toHaveTextContent('m2')
    expect(container.querySelector('.msg[data-seq="3"] .thread-link')).toHaveTextContent('1 reply')
  })

  it('shows my sends at the end as pending, without a seq, then in their place', async () => {
    const { container, controller } = await renderList([msg(1)], null)
    act(() => controller.post('on its way', null))
    const pending = container.querySelector('.msg[data-state="pending"]')
    expect(pending).not.toHaveAttribute('data-seq')
    expect(pending).toHaveAttribute('data-author', 'me')
    expect(order(container).at(-1)).toBe('msg:pending')
    const clientId = pending?.getAttribute('data-client-id') ?? ''
    act(() => {
      controller.store.put(msg(2, { author: 'me', client_id: clientId, body: 'on its way' }), true)
    })
    const sent = container.querySelector(`.msg[data-client-id="${clientId}"]`)
    expect(sent).toBe(pending) // the same element: no flicker
    expect(sent).toHaveAttribute('data-state', 'sent')
    expect(sent).toHaveAttribute('data-seq', '2')
  })

  it('moves the focus between messages with ↑ and ↓', async () => {
    const { container } = await renderList([msg(1), msg(2), msg(3)], null)
    const messages = container.querySelectorAll<HTMLElement>('#message-list > .msg')
    messages[2].focus()
    await userEvent.keyboard('{ArrowUp}')
    expect(document.activeElement).toBe(messages[1])
    await userEvent.keyboard('{ArrowUp}{ArrowUp}')
    expect(document.activeElement).toBe(messages[0])
    await userEvent.keyboard('{ArrowDown}')
    expect(document.activeElement).toBe(messages[1])
  })
})
