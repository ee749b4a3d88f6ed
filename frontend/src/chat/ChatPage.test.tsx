import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { act, render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { StrictMode } from 'react'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'

import { meKey } from '../account/queries'
import { chatApi, type Message } from './api'
import ChatPage from './ChatPage'
import { FakeWebSocket, installFakeWebSocket } from './testing/FakeWebSocket'

vi.mock('../shared/people', () => ({ usePerson: () => undefined }))

beforeAll(() => {
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

const message = (seq: number, over: Partial<Message> = {}): Message => ({
  id: seq,
  seq,
  created_version: seq,
  version_seq: seq,
  client_id: `c${String(seq)}`,
  author: 'bob',
  body: `hello ${String(seq)}`,
  parent_id: null,
  reply_count: 0,
  reactions: [],
  created_at: new Date().toISOString(),
  edited_at: null,
  deleted: false,
  ...over,
})

const open = (path: string) =>
  FakeWebSocket.all.filter((ws) => ws.closedWith === null && ws.url.endsWith(path))

describe('ChatPage', () => {
  const originalWebSocket = globalThis.WebSocket
  beforeEach(() => {
    installFakeWebSocket()
    vi.spyOn(chatApi, 'rooms').mockResolvedValue([
      {
        id: 1,
        name: 'general',
        kind: 'public',
        last_seq: 1,
        last_version: 1,
        last_read_seq: 1,
        unread: 0,
        role: 'owner',
      },
      {
        id: 2,
        name: 'general',
        kind: 'public',
        last_seq: 3,
        last_version: 3,
        last_read_seq: 1,
        unread: 2,
        role: 'member',
      },
    ])
    vi.spyOn(chatApi, 'messages').mockResolvedValue({ messages: [message(1)], has_more: false })
  })
  afterEach(() => {
    globalThis.WebSocket = originalWebSocket
  })

  it('opens one room socket and one inbox in strict mode, and shows what arrives', async () => {
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } })
    queryClient.setQueryData(meKey, {
      username: 'me',
      name: '',
      email: '',
      color: '#123456',
      avatar_url: null,
    })
    const router = createMemoryRouter(
      [
        { path: '/chat', element: <ChatPage /> },
        { path: '/chat/:roomId', element: <ChatPage /> },
      ],
      { initialEntries: ['/chat/1'] },
    )
    render(
      <StrictMode>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(document.querySelector('#message-list .msg[data-seq="1"]')).not.toBeNull())
    await waitFor(() => expect(open('/ws/chat/1?after_version=1')).toHaveLength(1))
    expect(open('/ws/chat')).toHaveLength(1)
    expect(window.__chat?.room?.roomId).toBe(1)

    // rooms of the same name are told apart; the other room's badge shows
    const items = document.querySelectorAll('#room-list .room-item')
    expect([...items].map((li) => li.querySelector('.room-name')?.textContent)).toEqual([
      'general #1',
      'general #2',
    ])
    expect(document.querySelector('.room-item[data-room-id="2"] .unread-badge')).toHaveTextContent('2')

    const [ws] = open('/ws/chat/1?after_version=1') as [FakeWebSocket]
    act(() => {
      ws.open()
      ws.receive({ type: 'resume.done', after_version: 1 })
      ws.receive({ type: 'message.new', message: message(2, { body: '**live**' }) })
    })
    expect(document.querySelector('#message-list .msg[data-seq="2"] strong')).toHaveTextContent('live')
    expect(screen.getByText('live', { selector: 'strong' })).toBeInTheDocument()
    expect(document.getElementById('chat-status')).toHaveAttribute('data-status', 'online')

    // another room: the first one's socket closes, the list (and its inbox) stay
    await userEvent.click(screen.getByRole('link', { name: /general \(room 2\)/ }))
    await waitFor(() => expect(document.getElementById('room-view')).toHaveAttribute('data-room-id', '2'))
    expect(ws.closedWith).toBe(1000)
    expect(open('/ws/chat')).toHaveLength(1)
    expect(document.querySelector('.room-item[data-room-id="2"] .unread-badge')).not.toBeVisible()
    queryClient.clear()
  })
})
