// REST data of rooms other than the list itself (which inbox/ keeps): public rooms, members,
// and the mutations on rooms, with the room list cache updated at once (optimistically where
// the change is the caller's own, rolled back if the server says no).
import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'

import { chatApi, type PublicRoom, type Room } from '../api'
import { inboxFor, roomsKey } from '../inbox/Inbox'
import type { RoomFrame } from '../socket/RoomSocket'

export const publicRoomsKey = ['chat', 'public-rooms'] as const
export const membersKey = (roomId: number) => ['chat', 'members', roomId] as const
export const onlineKey = ['presence', 'online'] as const

/** Public rooms; `fresh` fetches them again on mount (the browse dialog), showing the cache meanwhile. */
export function usePublicRooms(enabled = true, fresh = false) {
  return useQuery({
    queryKey: publicRoomsKey,
    queryFn: chatApi.publicRooms,
    enabled,
    refetchOnMount: fresh ? 'always' : true,
  })
}

/** A rename or (un)archive: the same change in every cached list of rooms. */
export function patchRoomCaches(queryClient: QueryClient, patch: RoomFrame): void {
  const apply = <T extends { id: number; name: string; archived?: boolean }>(r: T): T =>
    r.id !== patch.id
      ? r
      : {
          ...r,
          ...(typeof patch.name === 'string' ? { name: patch.name } : {}),
          ...(typeof patch.archived === 'boolean' ? { archived: patch.archived } : {}),
        }
  queryClient.setQueryData<Room[]>(roomsKey, (old) => old?.map(apply))
  queryClient.setQueryData<PublicRoom[]>(publicRoomsKey, (old) => old?.map(apply))
}

/** Rename or (un)archive, shown at once and rolled back if the server refuses. */
export function useUpdateRoom(roomId: number) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (patch: { name?: string; archived?: boolean }) => chatApi.updateRoom(roomId, patch),
    onMutate: async (patch) => {
      await queryClient.cancelQueries({ queryKey: roomsKey, exact: true })
      const rooms = queryClient.getQueryData<Room[]>(roomsKey)
      const publicRooms = queryClient.getQueryData<PublicRoom[]>(publicRoomsKey)
      patchRoomCaches(queryClient, { id: roomId, ...patch })
      return { rooms, publicRooms }
    },
    onError: (_error, _patch, saved) => {
      queryClient.setQueryData(roomsKey, saved?.rooms)
      queryClient.setQueryData(publicRoomsKey, saved?.publicRooms)
    },
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: roomsKey, exact: true })
      void queryClient.invalidateQueries({ queryKey: publicRoomsKey })
    },
  })
}

export function useCreateRoom() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: ({ name, isPrivate }: { name: string; isPrivate: boolean }) =>
      chatApi.createRoom(name, isPrivate),
    onSuccess: (room) => {
      inboxFor(queryClient).upsert({ role: 'owner', last_read_seq: 0, archived: false, ...room, unread: 0 })
      void queryClient.invalidateQueries({ queryKey: roomsKey, exact: true })
    },
  })
}

export function useJoinRoom() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (roomId: number) => chatApi.join(roomId),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: roomsKey, exact: true })
      void queryClient.invalidateQueries({ queryKey: publicRoomsKey })
    },
  })
}

export function useLeaveRoom(roomId: number) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: () => chatApi.leave(roomId),
    onSuccess: () => {
      inboxFor(queryClient).remove(roomId)
      void queryClient.invalidateQueries({ queryKey: publicRoomsKey })
    },
  })
}

export function useDirectRoom(me: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (usernames: string[]) => chatApi.direct(usernames),
    onSuccess: (room, usernames) => {
      inboxFor(queryClient).upsert({
        ...room,
        kind: 'direct',
        members: room.members ?? [me, ...usernames],
        unread: 0,
      })
      void queryClient.invalidateQueries({ queryKey: roomsKey, exact: true })
    },
  })
}
