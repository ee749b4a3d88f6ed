import { Link } from 'react-router'

import { useChatShell } from '../ChatShell'

/** /chat without a room. */
export function EmptyState() {
  const { openDialog } = useChatShell()
  return (
    <section id="chat-empty" className="chat-empty" aria-labelledby="chat-empty-title">
      <div className="chat-empty-icon" aria-hidden="true">
        💬
      </div>
      <h1 id="chat-empty-title">Chat</h1>
      <p className="muted">Pick a room on the left, or start something new.</p>
      <div className="chat-empty-actions">
        <button
          type="button"
          className="primary"
          id="empty-new-room"
          onClick={() => openDialog({ kind: 'new-room' })}
        >
          Create a room
        </button>
        <button type="button" id="empty-browse" onClick={() => openDialog({ kind: 'browse' })}>
          Browse public rooms
        </button>
        <button type="button" id="empty-new-dm" onClick={() => openDialog({ kind: 'dm' })}>
          Message someone
        </button>
      </div>
    </section>
  )
}

export function RoomNotFound() {
  return (
    <section className="chat-empty" aria-labelledby="room-not-found">
      <h1 id="room-not-found">Room not found</h1>
      <p>
        <Link to="/chat">Back to your rooms</Link>
      </p>
    </section>
  )
}
