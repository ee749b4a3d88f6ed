// The total of unread chat messages for the top bar's badge.
import { useQuery } from '@tanstack/react-query'

import { client, unwrap } from '../../api/client'

export const roomsKey = ['chat', 'rooms'] as const

export function useUnreadTotal(): number {
  const { data } = useQuery({
    queryKey: roomsKey,
    queryFn: () => unwrap(client.GET('/api/chat/rooms')),
    refetchInterval: 15_000,
  })
  return (data ?? []).reduce((total, room) => total + room.unread, 0)
}
