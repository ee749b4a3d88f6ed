import { useState, type SyntheticEvent } from 'react'

import { FormError } from '../shared/FormError'
import { useMembers, useRemoveMember, useSetMember, type Role } from './api'

/** Who has access. Everyone with access sees the list; owners add, change and remove people. */
export function SharePanel({ documentId, manage, me }: { documentId: string; manage: boolean; me: string }) {
  const members = useMembers(documentId)
  const setMember = useSetMember(documentId)
  const removeMember = useRemoveMember(documentId)
  const [username, setUsername] = useState('')
  const [role, setRole] = useState<Role>('editor')

  const submit = (event: SyntheticEvent) => {
    event.preventDefault()
    const name = username.trim()
    if (!name) return
    setMember.mutate({ username: name, role }, { onSuccess: () => setUsername('') })
  }

  return (
    <section id="share" className="card" aria-labelledby="share-title">
      <h2 id="share-title">{manage ? 'Share' : 'People with access'}</h2>
      <ul id="members" className="members">
        {(members.data ?? []).map((member) => (
          <li key={member.username} data-username={member.username}>
            <span className="member-name">{member.username}</span>
            <span className={`role role-${member.role}`}>{member.role}</span>
            {manage && member.role !== 'owner' && member.username !== me && (
              <button
                type="button"
                className="link-button remove"
                aria-label={`Remove ${member.username}`}
                disabled={removeMember.isPending}
                onClick={() => removeMember.mutate(member.username)}
              >
                remove
              </button>
            )}
          </li>
        ))}
      </ul>
      <FormError error={members.error ?? removeMember.error} />
      {manage && (
        <form className="share-form" onSubmit={submit}>
          <input
            id="share-username"
            type="text"
            placeholder="username"
            required
            autoCapitalize="none"
            spellCheck={false}
            aria-label="Username to share with"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
          <select
            id="share-role"
            aria-label="Role"
            value={role}
            onChange={(e) => setRole(e.target.value as Role)}
          >
            <option value="editor">can edit</option>
            <option value="viewer">can view</option>
          </select>
          <button id="share-add" type="submit" className="primary" disabled={setMember.isPending}>
            Share
          </button>
          <FormError id="share-error" error={setMember.error} />
        </form>
      )}
    </section>
  )
}
