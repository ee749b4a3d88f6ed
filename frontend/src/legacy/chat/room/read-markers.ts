// Read markers: `read` goes out (debounced) with the highest visible seq while the window
// is visible and focused, and the "New messages" line marks where the reader left off.

import { h } from '../../dom'
import type { Room } from '../api'
import type { RoomView } from './index'

const READ_DEBOUNCE_MS = 400

export class ReadMarkers {
  readonly divider = h('div', { id: 'unread-divider', class: 'unread-divider', role: 'separator' }, h('span', {}, 'New messages'))
  /** The room's last_read_seq when it was opened: the divider goes above the first message after it. */
  unreadFrom: number | null = null
  private readSent = 0
  private timer: number | undefined
  private readonly onWindowFocus = () => this.schedule()

  constructor(private readonly view: RoomView) {
    window.addEventListener('focus', this.onWindowFocus)
    document.addEventListener('visibilitychange', this.onWindowFocus)
  }

  destroy(): void {
    window.clearTimeout(this.timer)
    window.removeEventListener('focus', this.onWindowFocus)
    document.removeEventListener('visibilitychange', this.onWindowFocus)
  }

  /** Read this before the room's badge is cleared (opening the room clears it). */
  rememberUnread(room: Room | null): void {
    this.unreadFrom = room && (room.unread ?? 0) > 0 && typeof room.last_read_seq === 'number' ? room.last_read_seq : null
    this.readSent = room?.last_read_seq ?? 0
  }

  /** The reader posted: the "New messages" line has served its purpose. */
  forgetUnread(): void {
    this.unreadFrom = null
  }

  /** The server reports a read marker of mine (this tab or another one). */
  readByMe(seq: number): void {
    this.readSent = Math.max(this.readSent, seq)
    this.view.directory.markRead(this.view.roomId, seq)
  }

  schedule(): void {
    window.clearTimeout(this.timer)
    this.timer = window.setTimeout(() => this.send(), READ_DEBOUNCE_MS)
  }

  private send(): void {
    const { socket } = this.view
    if (!this.view.isMember || this.view.destroyed || !socket?.isOpen) return
    if (document.visibilityState !== 'visible' || !document.hasFocus()) return
    const seq = this.view.list.highestVisibleSeq()
    if (seq <= this.readSent) return
    if (socket.send({ type: 'read', seq })) {
      this.readSent = seq
      this.view.directory.markRead(this.view.roomId, seq)
    }
  }
}
