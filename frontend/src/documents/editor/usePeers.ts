import { useCallback, useRef, useSyncExternalStore } from 'react'

import { safeColor } from '../../shared/color'
import type { Collaboration } from './collaboration'

export interface Peer {
  clientId: number
  /** The person (the server's user id): one person may have several tabs, two people one name. */
  personId: string
  name: string
  color: string
  avatarUrl: string | null
}

interface AwarenessUser {
  id?: number | string
  avatar_url?: string | null
  name?: string
  username?: string
  color?: string
}

const NOBODY: Peer[] = []

function readPeers(connection: Collaboration): Peer[] {
  const peers: Peer[] = []
  connection.provider.awareness.getStates().forEach((state, clientId) => {
    if (clientId === connection.ydoc.clientID) return
    const user = (state as { user?: AwarenessUser }).user
    if (!user) return
    const name = user.name || user.username || 'Anonymous'
    peers.push({
      clientId,
      personId: user.id === undefined ? `name:${name}` : String(user.id),
      name,
      color: safeColor(user.color),
      avatarUrl: typeof user.avatar_url === 'string' ? user.avatar_url : null,
    })
  })
  return peers.sort((a, b) => a.name.localeCompare(b.name) || a.clientId - b.clientId)
}

/** Everyone else in the document now (one entry per connection, so a person with two tabs is twice). */
export function usePeers(connection: Collaboration | null): Peer[] {
  const snapshot = useRef<Peer[]>(NOBODY)
  const subscribe = useCallback(
    (listener: () => void) => {
      if (!connection) return () => undefined
      const awareness = connection.provider.awareness
      const update = () => {
        snapshot.current = readPeers(connection)
        listener()
      }
      awareness.on('change', update)
      update()
      return () => awareness.off('change', update)
    },
    [connection],
  )
  return useSyncExternalStore(subscribe, () => (connection ? snapshot.current : NOBODY))
}
