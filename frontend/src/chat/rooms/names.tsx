// Rooms with the same name must be told apart: they get their number ("#12") beside the name.
import { roomLabel, type Room } from '../api'

/** The ids of rooms whose label another room of the list shares (direct rooms are unique). */
export function ambiguousIds(
  rooms: readonly Pick<Room, 'id' | 'name' | 'kind' | 'members'>[],
  me: string,
): Set<number> {
  const byLabel = new Map<string, number[]>()
  for (const r of rooms) {
    if (r.kind === 'direct') continue
    const key = roomLabel(r, me).trim().toLowerCase()
    byLabel.set(key, [...(byLabel.get(key) ?? []), r.id])
  }
  const out = new Set<number>()
  for (const ids of byLabel.values()) if (ids.length > 1) for (const id of ids) out.add(id)
  return out
}

/** The room's name with its number when the name alone is ambiguous. */
export function RoomName({ label, id, ambiguous }: { label: string; id: number; ambiguous: boolean }) {
  return (
    <>
      {label}
      {ambiguous && (
        <span className="room-disambig" aria-label={`, room ${id}`}>
          {' '}
          #{id}
        </span>
      )}
    </>
  )
}
