// window.__chat on chat pages, for debugging and the browser tests (tests/e2e/test_chat_browser.py):
// `.room` the open room (its `.socket` has stop() / start() / send(frame)), `.directory` the
// room list's inbox, `.markup.renderMarkup(body, {me})` the message renderer.
import { useEffect } from 'react'

import type { Inbox } from './inbox/Inbox'
import { parseMarkup } from './markup/parse'
import { renderMarkup } from './markup/renderMarkup'
import type { RoomController } from './room/RoomController'

let openRoom: RoomController | null = null

interface ChatDebug {
  readonly room: RoomController | null
  readonly directory: Inbox
  readonly markup: { renderMarkup: typeof renderMarkup; parseMarkup: typeof parseMarkup }
}

declare global {
  interface Window {
    __chat?: ChatDebug
  }
}

export function setOpenRoom(room: RoomController | null): void {
  openRoom = room
}

export function clearOpenRoom(room: RoomController): void {
  if (openRoom === room) openRoom = null
}

export function useChatDebugHook(inbox: Inbox): void {
  useEffect(() => {
    const hook: ChatDebug = {
      get room() {
        return openRoom
      },
      directory: inbox,
      markup: { renderMarkup, parseMarkup },
    }
    window.__chat = hook
    return () => {
      if (window.__chat === hook) delete window.__chat
    }
  }, [inbox])
}
