// The room header: kind icon, title, who is here, the socket status, members button, room menu.
import { useState } from 'react'

import { Icon } from '../lib/Icon'
import { useStore } from '../lib/store'
import type { SocketStatus } from '../socket/RoomSocket'
import { RoomDialogs, type RoomDialog } from './RoomDialogs'
import { RoomHere } from './RoomHere'
import { RoomMenu } from './RoomMenu'
import type { RoomController } from './RoomController'
import type { RoomInfo } from './useRoom'

const STATUS_TEXT: Record<SocketStatus, string> = {
  connecting: 'connecting',
  online: 'live',
  offline: 'reconnecting…',
  closed: 'disconnected',
}

const KIND_LABEL = { private: 'Private room', direct: 'Direct message', public: 'Public room' }

export function RoomHeader({ controller, info }: { controller: RoomController; info: RoomInfo }) {
  const status = useStore(controller.status)
  const panel = useStore(controller.panel)
  const [dialog, setDialog] = useState<RoomDialog>(null)
  const { kind } = info
  return (
    <header className="room-head">
      <span id="room-kind" className="room-kind" role="img" aria-label={KIND_LABEL[kind]} data-kind={kind}>
        <Icon name={kind === 'private' ? 'lock' : kind === 'direct' ? 'message' : 'hash'} />
      </span>
      <h1 id="room-title" className="room-title">
        {info.title}
      </h1>
      <span className="spacer" />
      <RoomHere controller={controller} />
      <span id="chat-status" className="status" data-status={status} role="status">
        {STATUS_TEXT[status]}
      </span>
      <button
        id="members-btn"
        type="button"
        className="icon-button"
        aria-label="Members"
        title="Members"
        aria-pressed={panel?.kind === 'members'}
        onClick={() => controller.togglePanel({ kind: 'members' })}
      >
        <Icon name="users" />
      </button>
      <RoomMenu controller={controller} info={info} onDialog={setDialog} />
      <RoomDialogs controller={controller} info={info} dialog={dialog} onClose={() => setDialog(null)} />
    </header>
  )
}
