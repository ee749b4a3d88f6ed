import { Link } from 'react-router'

import { FormError } from '../../shared/FormError'
import { useUpdateRoom } from '../rooms/queries'
import type { RoomController } from './RoomController'
import type { RoomInfo } from './useRoom'

/** #room-banner: why the room cannot be shown, or that it is archived. */
export function RoomBanner({ controller, info }: { controller: RoomController; info: RoomInfo }) {
  const update = useUpdateRoom(controller.roomId)
  if (info.fatal) {
    return (
      <div id="room-banner" className="room-banner banner banner-error" role="alert">
        {info.fatal} <Link to="/chat">Back to your rooms</Link>
      </div>
    )
  }
  if (!info.archived) return <div id="room-banner" className="room-banner" hidden />
  return (
    <div id="room-banner" className="room-banner banner banner-info">
      This room is archived: you can read it, but not post.
      {info.isOwner && (
        <>
          {' '}
          <button
            type="button"
            className="link-button"
            id="unarchive"
            disabled={update.isPending}
            onClick={() => update.mutate({ archived: false })}
          >
            Unarchive
          </button>
        </>
      )}
      <FormError error={update.error} />
    </div>
  )
}
