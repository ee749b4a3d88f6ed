import { useState } from 'react'
import { Link, useNavigate } from 'react-router'

import { Dialog } from '../../shared/Dialog'
import { FormError } from '../../shared/FormError'
import { missing, type PublicRoom } from '../api'
import { useRooms } from '../inbox/useInbox'
import { ambiguousIds, RoomName } from './names'
import { useJoinRoom, usePublicRooms } from './queries'

export function BrowseDialog({ onClose }: { onClose: () => void }) {
  const [filter, setFilter] = useState('')
  const rooms = usePublicRooms(true, true)
  const mine = useRooms()
  const join = useJoinRoom()
  const navigate = useNavigate()
  const q = filter.trim().toLowerCase()
  const all = rooms.data ?? []
  const ambiguous = ambiguousIds(all, '')
  const shown = all
    .filter((r) => !q || r.name.toLowerCase().includes(q))
    .sort((a, b) => a.name.localeCompare(b.name))
  const joined = (r: PublicRoom) => r.joined ?? (mine.data ?? []).some((x) => x.id === r.id)
  let note: string | null = null
  if (rooms.isPending) note = 'Loading…'
  else if (rooms.data && !shown.length) note = q ? 'No room matches.' : 'There are no public rooms yet.'
  return (
    <Dialog open title="Browse public rooms" onClose={onClose} id="browse-dialog">
      <div className="dialog-form">
        <input
          id="public-rooms-filter"
          type="search"
          placeholder="Filter rooms"
          aria-label="Filter rooms"
          value={filter}
          onChange={(ev) => setFilter(ev.target.value)}
        />
        {rooms.error && missing(rooms.error) ? (
          <p className="muted">
            Browsing public rooms is not available on this server yet — open a room from a link instead.
          </p>
        ) : (
          <FormError error={rooms.error} />
        )}
        <ul id="public-rooms" className="public-rooms" aria-busy={rooms.isPending}>
          {note && <li className="muted">{note}</li>}
          {shown.map((r) => (
            <li key={r.id} className="public-room" data-room-id={r.id}>
              <Link to={`/chat/${r.id}`} className="public-room-name" onClick={onClose}>
                # <RoomName label={r.name} id={r.id} ambiguous={ambiguous.has(r.id)} />
              </Link>
              {joined(r) ? (
                <span className="muted joined">joined</span>
              ) : (
                <button
                  type="button"
                  className="primary join"
                  data-room-id={r.id}
                  aria-label={`Join ${r.name}`}
                  disabled={join.isPending}
                  onClick={() =>
                    join.mutate(r.id, {
                      onSuccess: () => {
                        onClose()
                        void navigate(`/chat/${r.id}`)
                      },
                    })
                  }
                >
                  Join
                </button>
              )}
            </li>
          ))}
        </ul>
        <FormError error={join.error} />
        <div className="dialog-actions">
          <button type="button" data-role="cancel" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </Dialog>
  )
}
