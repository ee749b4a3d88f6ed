import { createContext, useContext } from 'react'

import type { Message } from '../api'
import type { Where } from '../room/Edits'
import type { RoomController } from '../room/RoomController'

/** What every message of one list needs to know (memoised by the list). */
export interface MessageContext {
  controller: RoomController
  me: string
  where: Where | 'parent'
  canPost: boolean
  isOwner: boolean
  /** The server sends `reactions`: show reaction chips and buttons. */
  reactions: boolean
  react: (m: Message, emoji: string, add: boolean) => void
}

export const MessageCtx = createContext<MessageContext | null>(null)

export function useMessageContext(): MessageContext {
  const ctx = useContext(MessageCtx)
  if (!ctx) throw new Error('a message outside its list')
  return ctx
}
