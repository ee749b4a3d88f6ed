import { safeColor } from './color'

export type PresenceStatus = 'online' | 'away' | 'offline'

/** "Alice Smith" → "AS", "bob" → "B", "carol.jones" → "CJ". */
export function initials(name: string): string {
  const parts = name
    .trim()
    .split(/[\s._-]+/)
    .filter(Boolean)
  const first = (s: string | undefined) => (Array.from(s ?? '')[0] ?? '').toUpperCase()
  if (parts.length >= 2) return first(parts[0]) + first(parts[1])
  return first(parts[0]) || '?'
}

interface AvatarProps {
  name: string
  /** The person's colour, from the server's identity (the same everywhere). */
  color?: string | null
  imageUrl?: string | null
  status?: PresenceStatus
  size?: 'xs' | 'sm' | 'md' | 'lg' | 'xl'
  /** Accessible name; defaults to the name. '' makes the avatar decorative. */
  label?: string
  username?: string
}

export function Avatar({ name, color, imageUrl, status, size = 'md', label, username }: AvatarProps) {
  const accessibleName = label ?? name
  return (
    <span
      className={`avatar avatar-${size}`}
      style={{ background: safeColor(color) }}
      title={accessibleName || undefined}
      role={accessibleName ? 'img' : undefined}
      aria-label={accessibleName || undefined}
      aria-hidden={accessibleName ? undefined : true}
      data-user={username ?? name}
    >
      {imageUrl ? (
        <img className="avatar-image" src={imageUrl} alt="" />
      ) : (
        <span className="avatar-initials" aria-hidden="true">
          {initials(name)}
        </span>
      )}
      {status && <span className={`presence-dot presence-${status}`} data-status={status} />}
    </span>
  )
}
