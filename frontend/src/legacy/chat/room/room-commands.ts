// What the room menu, the banner and the join bar do: join, leave, rename, archive.
// A server without the endpoint says so instead of failing.

import { h } from '../../dom'
import { navigate } from '../../router'
import { chatApi, missing, roomLabel } from '../api'
import { confirmDialog, openDialog } from '../dialogs'
import { errText } from './errors'
import type { RoomView } from './index'

export class RoomCommands {
  constructor(private readonly view: RoomView) {}

  rename(): void {
    const { view } = this
    const input = h('input', { id: 'rename-input', type: 'text', maxlength: 200, required: true, value: view.room?.name ?? '', 'aria-label': 'Room name' })
    openDialog({
      id: 'rename-dialog',
      title: 'Rename room',
      body: [h('label', { for: 'rename-input' }, 'Name'), input],
      submitLabel: 'Rename',
      onSubmit: async () => {
        const name = input.value.trim()
        if (!name) throw new Error('Please enter a name.')
        try {
          const r = await chatApi.updateRoom(view.roomId, { name })
          view.applyRoomUpdate({ name: r?.name ?? name })
          void view.directory.refresh()
        } catch (e) {
          if (missing(e)) throw new Error('Renaming rooms is not available on this server yet.')
          throw e
        }
      },
    })
    input.select()
  }

  async setArchived(archived: boolean): Promise<void> {
    const { view } = this
    if (archived && !(await confirmDialog('archive-dialog', 'Archive room?', 'Nobody can post in an archived room. You can unarchive it later.', 'Archive'))) return
    try {
      await chatApi.updateRoom(view.roomId, { archived })
      view.applyRoomUpdate({ archived })
      void view.directory.refresh()
    } catch (e) {
      view.notice(missing(e) ? 'Archiving is not available on this server yet.' : errText(e), 'error')
    }
  }

  async leave(): Promise<void> {
    const { view } = this
    const label = view.room ? roomLabel(view.room, view.me) : `room ${view.roomId}`
    if (!(await confirmDialog('leave-dialog', 'Leave room?', `Leave ${label}? You can rejoin public rooms at any time.`, 'Leave'))) return
    try {
      await chatApi.leave(view.roomId)
      view.directory.remove(view.roomId)
      navigate('/chat')
    } catch (e) {
      view.notice(missing(e) ? 'Leaving rooms is not available on this server yet.' : errText(e), 'error')
    }
  }

  async join(): Promise<void> {
    const { view } = this
    try {
      await chatApi.join(view.roomId)
      view.isMember = true
      await view.directory.refresh()
      view.roomChanged()
      // The socket decided membership when it connected: reconnect so posting works.
      view.restartSocket()
      view.composer.input.focus()
    } catch (e) {
      view.notice(errText(e), 'error')
    }
  }
}
