// The members (#member-list li[data-username][data-status]) with their presence: who has the
// room open, else the online list (every 30 s while shown). Owners remove people; members of
// public rooms (owners of private ones) add them.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'

import { ConfirmDialog } from '../../shared/Dialog'
import { FormError } from '../../shared/FormError'
import { chatApi, missing, type PresenceStatus } from '../api'
import { PersonAvatar, useDisplayName } from '../lib/people'
import { useStore } from '../lib/store'
import type { RoomController } from '../room/RoomController'
import type { RoomInfo } from '../room/useRoom'
import { membersKey, onlineKey } from '../rooms/queries'
import { AddMemberForm } from './AddMemberForm'

const STATUS_RANK: Record<PresenceStatus, number> = { online: 0, away: 1, offline: 2 }

interface Props {
  controller: RoomController
  info: RoomInfo
  children: ReactNode
}

export function MembersPanel({ controller, info, children }: Props) {
  const roomId = controller.roomId
  const members = useQuery({ queryKey: membersKey(roomId), queryFn: () => chatApi.members(roomId) })
  const online = useQuery({ queryKey: onlineKey, queryFn: chatApi.online, refetchInterval: 30_000 })
  const here = useStore(controller.here)
  const [removing, setRemoving] = useState<string | null>(null)
  const me = controller.me
  const statusOf = (user: string): PresenceStatus => {
    const h = here.find((x) => x.user === user)
    if (h) return h.status === 'away' ? 'away' : 'online'
    return online.data?.get(user) ?? 'offline'
  }
  const known = members.data
  const people: { username: string; role?: string }[] = known ?? here.map((x) => ({ username: x.user }))
  const sorted = [...people].sort(
    (a, b) =>
      STATUS_RANK[statusOf(a.username)] - STATUS_RANK[statusOf(b.username)] ||
      a.username.localeCompare(b.username),
  )
  const owner = info.isOwner && info.kind !== 'direct'
  const canAdd =
    info.isMember && !info.archived && info.kind !== 'direct' && (info.kind === 'public' || info.isOwner)
  return (
    <>
      {children}
      {members.error && !missing(members.error) && <FormError error={members.error} />}
      <ul id="member-list" className="member-list">
        {!known && (
          <li className="muted member-note">
            {members.isPending
              ? 'Loading…'
              : here.length
                ? 'People with this room open:'
                : 'The member list is not available yet.'}
          </li>
        )}
        {sorted.map((p) => (
          <Member
            key={p.username}
            username={p.username}
            role={p.role}
            status={statusOf(p.username)}
            me={me}
            onRemove={
              owner && p.username !== me && p.role !== 'owner' ? () => setRemoving(p.username) : undefined
            }
          />
        ))}
      </ul>
      {canAdd && <AddMemberForm roomId={roomId} />}
      {removing && <RemoveDialog roomId={roomId} username={removing} onClose={() => setRemoving(null)} />}
    </>
  )
}

interface MemberProps {
  username: string
  role?: string
  status: PresenceStatus
  me: string
  onRemove?: () => void
}

function Member({ username, role, status, me, onRemove }: MemberProps) {
  const name = useDisplayName(username)
  return (
    <li className="member" data-username={username} data-status={status}>
      <PersonAvatar username={username} size="sm" status={status} />
      <span className="member-name">
        {name}
        {username === me && <span className="muted"> (you)</span>}
      </span>
      <span className={`presence-label presence-label-${status}`}>{status}</span>
      {role === 'owner' && <span className="role role-owner">owner</span>}
      {onRemove && (
        <button
          type="button"
          className="link-button member-remove"
          aria-label={`Remove ${username} from the room`}
          onClick={onRemove}
        >
          remove
        </button>
      )}
    </li>
  )
}

function RemoveDialog({
  roomId,
  username,
  onClose,
}: {
  roomId: number
  username: string
  onClose: () => void
}) {
  const queryClient = useQueryClient()
  const remove = useMutation({
    mutationFn: () => chatApi.removeMember(roomId, username),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: membersKey(roomId) }),
  })
  const error =
    remove.error && missing(remove.error)
      ? 'Removing members is not available on this server yet.'
      : remove.error
  return (
    <ConfirmDialog
      open
      id="remove-member-dialog"
      title="Remove member?"
      message={`Remove ${username} from this room?`}
      confirmLabel="Remove"
      danger
      busy={remove.isPending}
      error={<FormError error={error} />}
      onClose={onClose}
      onConfirm={() => remove.mutate(undefined, { onSuccess: onClose })}
    />
  )
}
