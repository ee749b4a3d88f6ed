// One open room: header, banners, notices, the message log, typing line, composer or join bar,
// and the side panel (a thread or the members).
import { useEffect } from 'react'
import { useLocation } from 'react-router'

import { Composer } from '../composer/Composer'
import { useStore } from '../lib/store'
import { MessageList } from '../messages/MessageList'
import { SidePanel } from '../thread/SidePanel'
import { DeleteMessageDialog } from './DeleteMessageDialog'
import { JoinBar } from './JoinBar'
import { NoticeList } from './NoticeList'
import { RoomBanner } from './RoomBanner'
import { RoomHeader } from './RoomHeader'
import type { RoomController } from './RoomController'
import { TypingIndicator } from './TypingIndicator'
import { useRoomController, useRoomInfo } from './useRoom'

export function RoomView({ roomId }: { roomId: number }) {
  const controller = useRoomController(roomId)
  if (!controller) {
    return (
      <div className="room-loading muted" aria-busy="true">
        Loading…
      </div>
    )
  }
  return <OpenRoom controller={controller} />
}

function OpenRoom({ controller }: { controller: RoomController }) {
  const info = useRoomInfo(controller)
  const panel = useStore(controller.panel)
  const ready = useStore(controller.ready)
  const { isMember, canPost, kind, title } = info
  useEffect(() => controller.setAccess({ isMember, canPost }), [controller, isMember, canPost])
  useEffect(() => {
    document.title = `${kind === 'direct' ? '' : '#'}${title} · Chat · Collab`
  }, [kind, title])
  useRevealFromHash(controller, ready)
  const activity = () => controller.presenceActive()
  return (
    <div
      className={panel ? 'chat-room with-panel' : 'chat-room'}
      onKeyDown={activity}
      onPointerDown={activity}
      onWheel={activity}
    >
      <section
        id="room-view"
        className="room-main"
        data-room-id={controller.roomId}
        data-kind={kind}
        data-archived={String(info.archived)}
        aria-labelledby="room-title"
      >
        <RoomHeader controller={controller} info={info} />
        <RoomBanner controller={controller} info={info} />
        <NoticeList notices={controller.notices} />
        <MessageList controller={controller} info={info} />
        <TypingIndicator controller={controller} />
        <JoinBar controller={controller} info={info} />
        <Composer
          controller={controller}
          parentId={null}
          canPost={canPost && ready}
          hidden={!canPost}
          placeholder={`Message ${kind === 'direct' ? title : '#' + title}`}
        />
      </section>
      {panel && <SidePanel controller={controller} info={info} content={panel} />}
      <DeleteMessageDialog controller={controller} />
    </div>
  )
}

/** /chat/<id>#seq-<n> scrolls to message n (search results link there). */
function useRevealFromHash(controller: RoomController, ready: boolean): void {
  const { hash, key } = useLocation()
  useEffect(() => {
    const target = /^#seq-(\d+)$/.exec(hash)
    if (ready && target) void controller.revealSeq(Number(target[1]))
  }, [controller, ready, hash, key])
}
