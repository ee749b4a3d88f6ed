import { useState } from 'react'
import { useNavigate } from 'react-router'

import { Dialog } from '../../shared/Dialog'
import { FormError } from '../../shared/FormError'
import { missing } from '../api'
import { useChatShell } from '../ChatShell'
import { useDirectRoom } from './queries'

/** "bob, @carol dave" → ['bob', 'carol', 'dave'] without me or repeats. */
export function parseUsernames(text: string, me: string): string[] {
  const names = text.split(/[\s,]+/).map((s) => s.trim().replace(/^@/, ''))
  return [...new Set(names.filter((s) => s && s !== me))]
}

export function DirectDialog({ onClose }: { onClose: () => void }) {
  const { me } = useChatShell()
  const [text, setText] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const direct = useDirectRoom(me)
  const navigate = useNavigate()
  const error =
    problem ??
    (direct.error && missing(direct.error)
      ? 'Direct messages are not available on this server yet.'
      : direct.error)
  return (
    <Dialog open title="New direct message" onClose={onClose} id="dm-dialog">
      <form
        className="dialog-form"
        noValidate
        onSubmit={(ev) => {
          ev.preventDefault()
          const names = parseUsernames(text, me)
          if (!names.length) return setProblem('Enter at least one username.')
          if (names.length > 7) return setProblem('A direct message is for at most 8 people.')
          setProblem(null)
          direct.mutate(names, {
            onSuccess: (room) => {
              onClose()
              void navigate(`/chat/${room.id}`)
            },
          })
        }}
      >
        <label htmlFor="dm-usernames">To</label>
        <input
          id="dm-usernames"
          type="text"
          required
          placeholder="bob, carol"
          autoCapitalize="none"
          spellCheck={false}
          autoComplete="off"
          aria-describedby="dm-help"
          value={text}
          onChange={(ev) => setText(ev.target.value)}
        />
        <p id="dm-help" className="field-help">
          One to seven usernames, separated by commas or spaces.
        </p>
        <FormError error={error} />
        <div className="dialog-actions">
          <button type="button" data-role="cancel" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-role="submit" disabled={direct.isPending}>
            Start conversation
          </button>
        </div>
      </form>
    </Dialog>
  )
}
