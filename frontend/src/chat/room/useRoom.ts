import { useQueryClient } from '@tanstack/react-query'
import { useEffect, useMemo } from 'react'

import { roomLabel, type Room, type RoomKind } from '../api'
import { useChatShell } from '../ChatShell'
import { clearOpenRoom, setOpenRoom } from '../debug'
import { roomsKey } from '../inbox/Inbox'
import { useRooms } from '../inbox/useInbox'
import { useStore } from '../lib/store'
import { patchRoomCaches, usePublicRooms } from '../rooms/queries'
import { RoomController } from './RoomController'

/** The controller of one open room, started once the room list is known (membership, unread). */
export function useRoomController(roomId: number): RoomController | null {
  const { me, inbox } = useChatShell()
  const queryClient = useQueryClient()
  const rooms = useRooms()
  const settled = rooms.isSuccess || rooms.isError
  const controller = useMemo(
    () =>
      settled
        ? new RoomController(roomId, { me, inbox, patchRoom: (patch) => patchRoomCaches(queryClient, patch) })
        : null,
    [roomId, settled, me, inbox, queryClient],
  )
  useEffect(() => {
    if (!controller) return
    setOpenRoom(controller)
    const room = queryClient.getQueryData<Room[]>(roomsKey)?.find((r) => r.id === roomId) ?? null
    void controller.start(room)
    return () => {
      controller.destroy()
      clearOpenRoom(controller)
    }
  }, [controller, roomId, queryClient])
  return controller
}

export interface RoomInfo {
  room: Room | null
  kind: RoomKind
  title: string
  isMember: boolean
  isOwner: boolean
  archived: boolean
  fatal: string | null
  canPost: boolean
}

/** What the room is and what the caller may do there: the room list, else the public rooms. */
export function useRoomInfo(controller: RoomController): RoomInfo {
  const { me } = useChatShell()
  const rooms = useRooms()
  const listed = rooms.data?.find((r) => r.id === controller.roomId) ?? null
  const publicRooms = usePublicRooms(rooms.isSuccess && !listed)
  const fatal = useStore(controller.fatalText)
  const found = publicRooms.data?.find((r) => r.id === controller.roomId)
  const room: Room | null =
    listed ??
    (found
      ? {
          id: found.id,
          name: found.name,
          kind: found.kind,
          archived: found.archived,
          last_seq: found.last_seq ?? 0,
          last_version: 0,
          unread: 0,
        }
      : null)
  const isMember = !!listed
  const archived = !!room?.archived
  return {
    room,
    kind: room?.kind ?? 'public',
    title: room ? roomLabel(room, me) : `Room ${controller.roomId}`,
    isMember,
    isOwner: listed?.role === 'owner',
    archived,
    fatal,
    canPost: isMember && !archived && !fatal,
  }
}
