// The room commands that ask first: rename, archive and leave; errors show in their dialog.
import { useState } from 'react'
import { useNavigate } from 'react-router'

import { ConfirmDialog, Dialog } from '../../shared/Dialog'
import { FormError } from '../../shared/FormError'
import { missing } from '../api'
import { useLeaveRoom, useUpdateRoom } from '../rooms/queries'
import type { RoomController } from './RoomController'
import type { RoomInfo } from './useRoom'

export type RoomDialog = 'rename' | 'archive' | 'leave' | null

interface Props {
  controller: RoomController
  info: RoomInfo
  dialog: RoomDialog
  onClose: () => void
}

function unavailable(error: unknown, what: string): unknown {
  return error && missing(error) ? `${what} is not available on this server yet.` : error
}

export function RoomDialogs({ controller, info, dialog, onClose }: Props) {
  const update = useUpdateRoom(controller.roomId)
  const leave = useLeaveRoom(controller.roomId)
  const navigate = useNavigate()
  if (dialog === 'rename') return <RenameDialog controller={controller} info={info} onClose={onClose} />
  if (dialog === 'archive') {
    return (
      <ConfirmDialog
        open
        id="archive-dialog"
        title="Archive room?"
        message="Nobody can post in an archived room. You can unarchive it later."
        confirmLabel="Archive"
        danger
        busy={update.isPending}
        error={<FormError error={unavailable(update.error, 'Archiving')} />}
        onClose={onClose}
        onConfirm={() => update.mutate({ archived: true }, { onSuccess: onClose })}
      />
    )
  }
  if (dialog === 'leave') {
    return (
      <ConfirmDialog
        open
        id="leave-dialog"
        title={info.kind === 'direct' ? 'Leave conversation?' : 'Leave room?'}
        message={`Leave ${info.title}? You can rejoin public rooms at any time.`}
        confirmLabel="Leave"
        danger
        busy={leave.isPending}
        error={<FormError error={unavailable(leave.error, 'Leaving rooms')} />}
        onClose={onClose}
        onConfirm={() =>
          leave.mutate(undefined, {
            onSuccess: () => {
              onClose()
              void navigate('/chat')
            },
          })
        }
      />
    )
  }
  return null
}

function RenameDialog({ controller, info, onClose }: Omit<Props, 'dialog'>) {
  const [name, setName] = useState(info.room?.name ?? '')
  const [problem, setProblem] = useState<string | null>(null)
  const update = useUpdateRoom(controller.roomId)
  return (
    <Dialog open title="Rename room" onClose={onClose} id="rename-dialog">
      <form
        className="dialog-form"
        noValidate
        onSubmit={(ev) => {
          ev.preventDefault()
          const next = name.trim()
          if (!next) return setProblem('Please enter a name.')
          setProblem(null)
          update.mutate({ name: next }, { onSuccess: onClose })
        }}
      >
        <label htmlFor="rename-input">Name</label>
        <input
          id="rename-input"
          type="text"
          maxLength={200}
          required
          value={name}
          onChange={(ev) => setName(ev.target.value)}
          onFocus={(ev) => ev.target.select()}
        />
        <FormError error={problem ?? unavailable(update.error, 'Renaming rooms')} />
        <div className="dialog-actions">
          <button type="button" data-role="cancel" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-role="submit" disabled={update.isPending}>
            Rename
          </button>
        </div>
      </form>
    </Dialog>
  )
}
