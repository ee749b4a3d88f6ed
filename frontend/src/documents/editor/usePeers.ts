import { useCallback, useRef, useSyncExternalStore } from 'react'

import { safeColor } from '../../shared/color'
import type { Collaboration } from './collaboration'

export interface Peer {
  clientId: number
  name: string
  color: string
}

interface AwarenessUser {
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
    peers.push({ clientId, name: user.name || user.username || 'Anonymous', color: safeColor(user.color) })
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
