// The total of unread chat messages, for the top bar's badge: live on every signed-in page
// (the tab's one inbox socket runs while the top bar is mounted).
import { useInbox, useRooms } from './useInbox'

export { roomsKey } from './Inbox'

export function useUnreadTotal(): number {
  useInbox()
  const { data } = useRooms()
  return (data ?? []).reduce((total, room) => total + (room.unread || 0), 0)
}
