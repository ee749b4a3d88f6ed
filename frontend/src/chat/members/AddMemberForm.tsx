import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'

import { FormError } from '../../shared/FormError'
import { chatApi } from '../api'
import { membersKey } from '../rooms/queries'

export function AddMemberForm({ roomId }: { roomId: number }) {
  const [username, setUsername] = useState('')
  const queryClient = useQueryClient()
  const add = useMutation({
    mutationFn: (name: string) => chatApi.addMember(roomId, name),
    onSuccess: async () => {
      setUsername('')
      await queryClient.invalidateQueries({ queryKey: membersKey(roomId) })
    },
  })
  return (
    <section className="panel-section" aria-labelledby="add-member-title">
      <h3 id="add-member-title">Add people</h3>
      <form
        className="add-member-form"
        onSubmit={(ev) => {
          ev.preventDefault()
          const name = username.trim().replace(/^@/, '')
          if (name) add.mutate(name)
        }}
      >
        <input
          id="add-member-input"
          type="text"
          placeholder="username"
          autoCapitalize="none"
          spellCheck={false}
          aria-label="Username to add"
          value={username}
          onChange={(ev) => setUsername(ev.target.value)}
        />
        <button id="add-member" type="submit" className="primary" disabled={add.isPending}>
          Add
        </button>
      </form>
      <FormError error={add.error} />
    </section>
  )
}
