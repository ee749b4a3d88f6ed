import { useEffect, useState, useSyncExternalStore } from 'react'

import { Collaboration, type CollaborationState } from './collaboration'

const CONNECTING: CollaborationState = { status: 'connecting', banner: null }
const noSubscription = () => () => undefined

/** The live connection of one document for as long as the component is mounted. */
export function useCollaboration(documentId: string): [Collaboration | null, CollaborationState] {
  const [collaboration, setCollaboration] = useState<Collaboration | null>(null)
  useEffect(() => {
    // The provider owns a socket and timers: it is created and destroyed with the effect (so
    // StrictMode's double mount and a change of document each get a fresh one), then handed to
    // render through state.
    const next = new Collaboration(documentId)
    // eslint-disable-next-line react-hooks/set-state-in-effect -- publishing the external resource made above
    setCollaboration(next)
    next.start()
    return () => {
      setCollaboration((current) => (current === next ? null : current))
      next.destroy()
    }
  }, [documentId])
  const state = useSyncExternalStore(
    collaboration?.subscribe ?? noSubscription,
    collaboration?.getState ?? (() => CONNECTING),
  )
  return [collaboration, state]
}
