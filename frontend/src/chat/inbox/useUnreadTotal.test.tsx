import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { act, render, screen, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { meKey } from '../../account/queries'
import { chatApi, type Room } from '../api'
import { FakeWebSocket, installFakeWebSocket } from '../testing/FakeWebSocket'
import { useUnreadTotal } from './useUnreadTotal'

const room = (id: number, unread: number): Room => ({
  id,
  name: `r${id}`,
  kind: 'public',
  last_seq: 10,
  last_version: 10,
  last_read_seq: 10 - unread,
  unread,
})

function Badge() {
  return <span data-testid="total">{useUnreadTotal()}</span>
}

describe('useUnreadTotal', () => {
  const originalWebSocket = globalThis.WebSocket
  beforeEach(() => {
    installFakeWebSocket()
  })
  afterEach(() => {
    globalThis.WebSocket = originalWebSocket
  })

  it('sums the unread counts and stays live through the inbox socket', async () => {
    vi.spyOn(chatApi, 'rooms').mockResolvedValue([room(1, 2), room(2, 3)])
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } })
    queryClient.setQueryData(meKey, { username: 'me' })
    render(
      <QueryClientProvider client={queryClient}>
        <Badge />
        <Badge />
      </QueryClientProvider>,
    )
    await waitFor(() => expect(screen.getAllByTestId('total')[0]).toHaveTextContent('5'))
    expect(FakeWebSocket.all.filter((ws) => ws.closedWith === null)).toHaveLength(1) // one per tab
    const ws = FakeWebSocket.all.find((s) => s.closedWith === null)
    if (!ws) throw new Error('no open inbox')
    act(() => {
      ws.open()
      ws.receive({ type: 'pong' }) // a live inbox: the list is fetched once more to catch up
    })
    await waitFor(() => expect(queryClient.isFetching()).toBe(0))
    act(() => ws.receive({ type: 'room.activity', room_id: 1, seq: 11, author: 'bob', parent_id: null }))
    await waitFor(() => expect(screen.getAllByTestId('total')[0]).toHaveTextContent('6'))
    act(() => ws.receive({ type: 'read', room_id: 2, user: 'me', seq: 10 }))
    await waitFor(() => expect(screen.getAllByTestId('total')[1]).toHaveTextContent('3'))
    queryClient.clear()
  })
})
