import { ConfirmDialog } from '../../shared/Dialog'
import { plainText } from '../lib/format'
import { useStore } from '../lib/store'
import type { RoomController } from './RoomController'

export function DeleteMessageDialog({ controller }: { controller: RoomController }) {
  const m = useStore(controller.deleting)
  if (!m) return null
  const preview = plainText(m.body, 80)
  const close = () => controller.deleting.set(null)
  return (
    <ConfirmDialog
      open
      id="delete-dialog"
      title="Delete message?"
      message={
        m.author === controller.me
          ? `Delete “${preview}”? This cannot be undone.`
          : `Delete ${m.author ?? 'this'}'s message “${preview}”? This cannot be undone.`
      }
      confirmLabel="Delete"
      danger
      onClose={close}
      onConfirm={() => {
        controller.deleteMessage(m)
        close()
      }}
    />
  )
}
