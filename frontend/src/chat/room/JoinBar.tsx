import { FormError } from '../../shared/FormError'
import { useJoinRoom } from '../rooms/queries'
import type { RoomController } from './RoomController'
import type { RoomInfo } from './useRoom'

/** #join-bar instead of the composer for people who are not members. */
export function JoinBar({ controller, info }: { controller: RoomController; info: RoomInfo }) {
  const join = useJoinRoom()
  if (info.fatal || info.isMember || info.archived) return <div id="join-bar" className="join-bar" hidden />
  const { room } = info
  if (room?.kind === 'private' || room?.kind === 'direct') {
    return (
      <div id="join-bar" className="join-bar">
        You are not a member of this room.
      </div>
    )
  }
  return (
    <div id="join-bar" className="join-bar">
      <span>
        You are reading <strong>{room ? `#${room.name}` : 'this room'}</strong>.
      </span>
      <button
        id="join-room"
        type="button"
        className="primary"
        disabled={join.isPending}
        onClick={() =>
          join.mutate(controller.roomId, {
            onSuccess: () => {
              // The socket decided membership when it connected: reconnect so posting works.
              controller.restartSocket()
              window.setTimeout(() => document.getElementById('composer-input')?.focus(), 0)
            },
          })
        }
      >
        Join room
      </button>
      <FormError error={join.error} />
    </div>
  )
}
