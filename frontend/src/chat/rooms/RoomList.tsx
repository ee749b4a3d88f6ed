// The room list (#room-list): rooms, direct messages and archived rooms with unread badges.
import { Link } from 'react-router'

import { roomLabel, type Room } from '../api'
import type { LiveMode } from '../inbox/Inbox'
import { Icon } from '../lib/Icon'
import { PersonAvatar } from '../lib/people'
import { ambiguousIds, RoomName } from './names'

interface Props {
  rooms: Room[] | undefined
  error: unknown
  mode: LiveMode
  activeId: number | null
  me: string
}

export function RoomList({ rooms, error, mode, activeId, me }: Props) {
  const byName = (a: Room, b: Room) => roomLabel(a, me).localeCompare(roomLabel(b, me))
  const list = rooms ?? []
  const ambiguous = ambiguousIds(list, me)
  const channels = list.filter((r) => r.kind !== 'direct' && !r.archived).sort(byName)
  const directs = list
    .filter((r) => r.kind === 'direct' && !r.archived)
    .sort((a, b) => b.last_seq - a.last_seq || byName(a, b))
  const archived = list.filter((r) => r.archived).sort(byName)
  const group = (id: string, title: string, items: Room[], empty: string) => (
    <div className="room-section">
      <h2 id={`room-group-${id}`} className="room-group-title">
        {title}
      </h2>
      <ul className="room-group" data-group={id} aria-labelledby={`room-group-${id}`}>
        {items.map((r) => (
          <RoomItem key={r.id} room={r} me={me} active={r.id === activeId} ambiguous={ambiguous.has(r.id)} />
        ))}
        {!items.length && empty && <li className="muted sidebar-note">{empty}</li>}
      </ul>
    </div>
  )
  return (
    <nav id="room-list" className="room-nav" aria-label="Rooms" data-live={mode}>
      {!rooms ? (
        <p className="muted sidebar-note">{error ? 'Could not load your rooms.' : 'Loading…'}</p>
      ) : (
        <>
          {group('rooms', 'Rooms', channels, 'No rooms yet.')}
          {group('direct', 'Direct messages', directs, 'No conversations yet.')}
          {archived.length > 0 && group('archived', 'Archived', archived, '')}
        </>
      )}
    </nav>
  )
}

interface ItemProps {
  room: Room
  me: string
  active: boolean
  ambiguous: boolean
}

function RoomItem({ room: r, me, active, ambiguous }: ItemProps) {
  const label = roomLabel(r, me)
  const unread = r.unread || 0
  const classes = [
    'room-item',
    unread ? 'has-unread' : '',
    r.archived ? 'archived' : '',
    active ? 'active' : '',
  ]
  const kindText = r.kind === 'private' ? 'private room' : r.kind === 'direct' ? 'direct message' : 'room'
  return (
    <li
      className={classes.filter(Boolean).join(' ')}
      data-room-id={r.id}
      data-kind={r.kind}
      data-unread={unread}
    >
      <Link
        className="room-link"
        to={`/chat/${r.id}`}
        data-room-id={r.id}
        title={label}
        aria-current={active ? 'page' : undefined}
        aria-label={`${label}${ambiguous ? ` (room ${r.id})` : ''}, ${kindText}${unread ? `, ${unread} unread` : ''}`}
      >
        {r.kind === 'direct' ? (
          <PersonAvatar username={r.members?.find((u) => u !== me) ?? label} size="xs" />
        ) : (
          <span className="room-icon">
            <Icon name={r.kind === 'private' ? 'lock' : 'hash'} />
          </span>
        )}
        <span className="room-name">
          <RoomName label={label} id={r.id} ambiguous={ambiguous} />
        </span>
        <span className="unread-badge" data-count={unread} hidden={unread === 0} aria-hidden="true">
          {unread > 99 ? '99+' : String(unread)}
        </span>
      </Link>
    </li>
  )
}
