// The chat sidebar: message search, the new room / browse / new message actions, the room list.
import { useState } from 'react'
import { Link } from 'react-router'

import { useChatShell } from '../ChatShell'
import { useLiveMode, useRooms } from '../inbox/useInbox'
import { Icon } from '../lib/Icon'
import { RoomList } from './RoomList'

export function Sidebar({ activeId }: { activeId: number | null }) {
  const { me, inbox, openDialog } = useChatShell()
  const rooms = useRooms()
  const mode = useLiveMode(inbox)
  const [q, setQ] = useState('')
  return (
    <aside id="chat-sidebar" className="chat-sidebar" aria-label="Chat rooms">
      <form
        id="chat-search"
        className="chat-search"
        role="search"
        onSubmit={(ev) => {
          ev.preventDefault()
          if (q.trim()) openDialog({ kind: 'search', q: q.trim() })
        }}
      >
        <Icon name="search" />
        <input
          id="chat-search-input"
          type="search"
          placeholder="Search messages"
          aria-label="Search messages"
          autoComplete="off"
          maxLength={200}
          value={q}
          onChange={(ev) => setQ(ev.target.value)}
        />
      </form>
      <div className="sidebar-actions">
        <button
          id="new-room-btn"
          type="button"
          className="sidebar-action"
          onClick={() => openDialog({ kind: 'new-room' })}
        >
          <Icon name="plus" />
          New room
        </button>
        <button
          id="browse-rooms-btn"
          type="button"
          className="sidebar-action"
          onClick={() => openDialog({ kind: 'browse' })}
        >
          <Icon name="search" />
          Browse rooms
        </button>
        <button
          id="new-dm-btn"
          type="button"
          className="sidebar-action"
          onClick={() => openDialog({ kind: 'dm' })}
        >
          <Icon name="message" />
          New message
        </button>
      </div>
      <RoomList rooms={rooms.data} error={rooms.error} mode={mode} activeId={activeId} me={me} />
      <Link to="/" className="back-to-docs">
        ← Documents
      </Link>
    </aside>
  )
}
