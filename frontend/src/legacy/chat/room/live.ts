// What the room socket reports, applied to the view: message changes, acks, error frames,
// typing, read markers, presence, room updates and the connection state.

import type { Message } from '../api'
import type { ErrorFrame, RoomSocketHandlers } from '../socket'
import { ERROR_TEXT, retryAfter } from './errors'
import type { RoomView } from './index'

export class LiveUpdates {
  constructor(private readonly view: RoomView) {}

  handlers(): RoomSocketHandlers {
    const { view } = this
    return {
      change: (_kind, m) => this.applyChange(m),
      ack: (clientId, seq, id) => view.outbox.acked(clientId, seq, id),
      error: (f) => this.onError(f),
      typing: (user, active, expiresIn) => view.typing.show(user, active, expiresIn),
      read: (user, seq) => {
        if (user === view.me) view.readMarkers.readByMe(seq)
        view.members.read(user, seq)
      },
      presence: (here) => {
        view.presence.update(here)
        view.members.renderIfOpen()
      },
      room: (r) => {
        view.applyRoomUpdate(r)
        void view.directory.refresh()
      },
      status: (s) => {
        view.head.setStatus(s)
        if (s === 'online') view.presence.connected()
        else view.typing.clearOthers()
      },
      resumed: () => view.readMarkers.schedule(),
      fatal: (code, msg) => {
        if (code === 4403 && view.isMember) {
          view.isMember = false
          void view.directory.refresh()
        }
        view.showFatal(code === 4401 ? `${msg} Sign in again to keep chatting.` : msg)
      },
    }
  }

  private applyChange(m: Message): void {
    const { view } = this
    const { store, list } = view
    const wasNew = !store.has(m.id)
    const ownPending = m.author === view.me && store.pending.has(m.client_id)
    if (!store.put(m, true)) return
    if (wasNew) view.directory.noteActivity(view.roomId, m.seq, m.author)
    const stick = list.atBottom() || ownPending
    if (m.parent_id === null) {
      list.render(m)
      if (wasNew) list.layout()
    } else {
      const parent = store.get(m.parent_id)
      if (parent) list.render(parent) // reply count
    }
    if (view.panel.showsThreadOf(m.id) || view.panel.showsThreadOf(m.parent_id)) view.thread.render()
    view.editor.changed(m)
    if (wasNew && m.parent_id === null) list.newMessageShown(m, stick)
    view.readMarkers.schedule()
  }

  private onError(f: ErrorFrame): void {
    const { view } = this
    if (f.code === 'unknown_type') {
      console.debug('chat: server does not know a frame type yet', f.message)
      return
    }
    if (view.outbox.refused(f)) return
    view.editor.refused()
    if (f.code === 'rate_limited') {
      view.notice('Slow down.', 'warn', { code: 'rate_limited', until: Date.now() + retryAfter(f) * 1000 })
      return
    }
    if (f.code === 'archived') view.applyRoomUpdate({ archived: true })
    if (f.code === 'not_member') {
      view.isMember = false
      view.composer.updateState()
    }
    view.notice(ERROR_TEXT[f.code] ?? f.message ?? f.code, 'error', { code: f.code })
  }
}
