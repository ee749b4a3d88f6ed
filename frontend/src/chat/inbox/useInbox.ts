import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect } from 'react'

import { useStore } from '../lib/store'
import { inboxFor, roomsKey, type Inbox, type LiveMode } from './Inbox'

/** The tab's inbox, kept running while the calling component is mounted. */
export function useInbox(): Inbox {
  const inbox = inboxFor(useQueryClient())
  useEffect(() => inbox.acquire(), [inbox])
  return inbox
}

export function useLiveMode(inbox: Inbox): LiveMode {
  return useStore(inbox.mode)
}

/** The caller's rooms (['chat','rooms']), kept current by the inbox. */
export function useRooms() {
  const inbox = inboxFor(useQueryClient())
  return useQuery({ queryKey: roomsKey, queryFn: inbox.fetchRooms })
}
