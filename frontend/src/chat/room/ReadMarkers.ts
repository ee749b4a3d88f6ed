// Read markers and presence on the room socket: `read` goes out (debounced) with the highest
// visible seq while the window is visible and focused; `presence` `active` at most every 30 s
// while the user does something, and again on every new connection.
import type { RoomSocket } from '../socket/RoomSocket'

const PRESENCE_EVERY_MS = 30_000
const READ_DEBOUNCE_MS = 400

export class ReadMarkers {
  /** Which seq the reader can see; the message list tells (it knows the layout). */
  visibleSeq: () => number
  private readSent = 0
  private timer: number | undefined
  private presenceSent = 0

  constructor(
    private readonly socket: () => RoomSocket | null,
    private readonly markRead: (seq: number) => void,
    newestSeq: () => number,
    private readonly canRead: () => boolean,
  ) {
    this.visibleSeq = newestSeq
  }

  reset(lastRead: number): void {
    this.readSent = lastRead
  }

  destroy(): void {
    window.clearTimeout(this.timer)
  }

  schedule(): void {
    window.clearTimeout(this.timer)
    this.timer = window.setTimeout(() => this.send(), READ_DEBOUNCE_MS)
  }

  /** The server reports a read marker of mine (this tab or another one). */
  readByMe(seq: number): void {
    this.readSent = Math.max(this.readSent, seq)
    this.markRead(seq)
  }

  presenceActive(): void {
    const now = Date.now()
    if (now - this.presenceSent < PRESENCE_EVERY_MS) return
    if (this.socket()?.send({ type: 'presence', state: 'active' })) this.presenceSent = now
  }

  /** A fresh connection starts without our state: say it again now. */
  connected(): void {
    this.presenceSent = 0
    if (document.hasFocus()) this.presenceActive()
  }

  private send(): void {
    const socket = this.socket()
    if (!this.canRead() || !socket?.isOpen) return
    if (document.visibilityState !== 'visible' || !document.hasFocus()) return
    const seq = this.visibleSeq()
    if (seq <= this.readSent) return
    if (socket.send({ type: 'read', seq })) {
      this.readSent = seq
      this.markRead(seq)
    }
  }
}
