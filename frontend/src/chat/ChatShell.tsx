// What every part of the chat page shares: who is signed in, the inbox, and the dialogs of the
// room list (opened from the sidebar and from the empty state).
import { createContext, useContext } from 'react'

import type { Inbox } from './inbox/Inbox'

export type ShellDialog =
  { kind: 'new-room' } | { kind: 'browse' } | { kind: 'dm' } | { kind: 'search'; q: string } | null

export interface ChatShell {
  me: string
  inbox: Inbox
  openDialog: (dialog: ShellDialog) => void
}

export const ChatShellContext = createContext<ChatShell | null>(null)

export function useChatShell(): ChatShell {
  const shell = useContext(ChatShellContext)
  if (!shell) throw new Error('useChatShell outside the chat page')
  return shell
}
