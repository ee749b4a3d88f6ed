// People as the server knows them (usePerson): the display name and the one colour a person
// has everywhere. The lookup may not be deployed yet: then the username, on a neutral colour.
import { Avatar, type PresenceStatus } from '../../shared/Avatar'
import { usePerson } from '../../shared/people'

export function useDisplayName(username: string | null | undefined): string {
  const person = usePerson(username)
  return person?.name || username || 'deleted user'
}

interface PersonAvatarProps {
  username: string | null
  size?: 'xs' | 'sm' | 'md' | 'lg'
  status?: PresenceStatus
  /** Accessible name; '' makes it decorative (the name is written next to it). */
  label?: string
}

export function PersonAvatar({ username, size = 'md', status, label = '' }: PersonAvatarProps) {
  const person = usePerson(username)
  const name = person?.name || username || '?'
  return (
    <Avatar
      name={name}
      color={person?.color}
      imageUrl={person?.avatar_url}
      status={status}
      size={size}
      label={label}
      username={username ?? ''}
    />
  )
}

/** A person's name as text (for typing lines, member lists). */
export function PersonName({ username }: { username: string }) {
  return <>{useDisplayName(username)}</>
}
