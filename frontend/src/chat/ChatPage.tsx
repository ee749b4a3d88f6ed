// /chat and /chat/:roomId: the room list beside the open room (or the empty state). Moving
// between chat URLs keeps this page (and its room list) and swaps only the room view.
import { useEffect, useMemo, useState } from 'react'
import { Link, useParams } from 'react-router'

import { useCurrentUser } from '../account/queries'
import './chat.css'
import { ChatShellContext, type ChatShell, type ShellDialog } from './ChatShell'
import { useChatDebugHook } from './debug'
import { useInbox } from './inbox/useInbox'
import { RoomView } from './room/RoomView'
import { BrowseDialog } from './rooms/BrowseDialog'
import { DirectDialog } from './rooms/DirectDialog'
import { EmptyState, RoomNotFound } from './rooms/EmptyState'
import { NewRoomDialog } from './rooms/NewRoomDialog'
import { Sidebar } from './rooms/Sidebar'
import { SearchDialog } from './search/SearchDialog'

function parseRoomId(raw: string | undefined): number | null {
  if (raw === undefined) return null
  return /^\d{1,12}$/.test(raw) ? Number(raw) : NaN
}

export default function ChatPage() {
  const me = useCurrentUser().username
  const inbox = useInbox()
  const roomId = parseRoomId(useParams().roomId)
  const [dialog, setDialog] = useState<ShellDialog>(null)
  const shell = useMemo<ChatShell>(() => ({ me, inbox, openDialog: setDialog }), [me, inbox])
  useChatDebugHook(inbox)
  useEffect(() => {
    if (roomId === null) document.title = 'Chat · Collab'
  }, [roomId])
  const close = () => setDialog(null)
  // Online/away: an open room's socket reports activity itself; without a room, the inbox does.
  const activity = () => {
    if (roomId === null) inbox.presenceActive()
  }
  const validRoom = roomId !== null && !Number.isNaN(roomId)
  return (
    <ChatShellContext.Provider value={shell}>
      <div
        id="chat"
        className="chat-layout"
        data-has-room={roomId !== null}
        onKeyDown={activity}
        onPointerDown={activity}
      >
        <Sidebar activeId={validRoom ? roomId : null} />
        <main id="main" className="chat-main">
          {roomId === null ? (
            <EmptyState />
          ) : !validRoom ? (
            <RoomNotFound />
          ) : (
            <>
              <Link id="room-back" className="room-back" to="/chat">
                <span aria-hidden="true">‹ </span>Rooms
              </Link>
              <RoomView key={roomId} roomId={roomId} />
            </>
          )}
        </main>
        {dialog?.kind === 'new-room' && <NewRoomDialog onClose={close} />}
        {dialog?.kind === 'browse' && <BrowseDialog onClose={close} />}
        {dialog?.kind === 'dm' && <DirectDialog onClose={close} />}
        {dialog?.kind === 'search' && <SearchDialog key={dialog.q} q={dialog.q} onClose={close} />}
      </div>
    </ChatShellContext.Provider>
  )
}
