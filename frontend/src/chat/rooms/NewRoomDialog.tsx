import { useState } from 'react'
import { useNavigate } from 'react-router'

import { Dialog } from '../../shared/Dialog'
import { FormError } from '../../shared/FormError'
import { useCreateRoom } from './queries'

export function NewRoomDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('')
  const [isPrivate, setPrivate] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)
  const create = useCreateRoom()
  const navigate = useNavigate()
  return (
    <Dialog open title="Create a room" onClose={onClose} id="new-room-dialog">
      <form
        className="dialog-form"
        noValidate
        onSubmit={(ev) => {
          ev.preventDefault()
          const n = name.trim()
          if (!n) return setProblem('Please give the room a name.')
          setProblem(null)
          create.mutate(
            { name: n, isPrivate },
            {
              onSuccess: (room) => {
                onClose()
                void navigate(`/chat/${room.id}`)
              },
            },
          )
        }}
      >
        <label htmlFor="new-room-name">Name</label>
        <input
          id="new-room-name"
          type="text"
          maxLength={200}
          required
          placeholder="e.g. design-review"
          autoComplete="off"
          value={name}
          onChange={(ev) => setName(ev.target.value)}
        />
        <label className="checkbox">
          <input
            id="new-room-private"
            type="checkbox"
            checked={isPrivate}
            onChange={(ev) => setPrivate(ev.target.checked)}
          />{' '}
          Private — only people you add can see it
        </label>
        <FormError error={problem ?? create.error} />
        <div className="dialog-actions">
          <button type="button" data-role="cancel" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-role="submit" disabled={create.isPending}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  )
}
