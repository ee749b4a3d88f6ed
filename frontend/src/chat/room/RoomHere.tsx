import { PersonAvatar } from '../lib/people'
import { useStore } from '../lib/store'
import type { RoomController } from './RoomController'

const AVATARS_SHOWN = 5

/** #room-here[data-users]: who has the room open (from `presence` frames), me first. */
export function RoomHere({ controller }: { controller: RoomController }) {
  const here = useStore(controller.here)
  const me = controller.me
  const people = [...here].sort((a, b) =>
    a.user === me ? -1 : b.user === me ? 1 : a.user.localeCompare(b.user),
  )
  const names = people.map((p) => p.user)
  const shown = people.slice(0, AVATARS_SHOWN)
  return (
    <div
      id="room-here"
      className="room-here"
      role="group"
      aria-label={people.length ? `In this room now: ${names.join(', ')}` : 'Nobody else here'}
      data-users={[...names].sort().join(',')}
    >
      {shown.map((p) => (
        <PersonAvatar
          key={p.user}
          username={p.user}
          size="sm"
          status={p.status === 'away' ? 'away' : 'online'}
          label={`${p.user} (${p.status})`}
        />
      ))}
      {people.length > shown.length && (
        <span className="avatar avatar-sm avatar-more">+{people.length - shown.length}</span>
      )}
    </div>
  )
}
