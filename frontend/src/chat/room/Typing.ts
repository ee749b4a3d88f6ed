// Typing: `typing` frames go out at most every 3 s while the user types (`active:false` on
// send, blur or an emptied composer); `others` is who else is typing until their frame expires.
import { Store } from '../lib/store'

const TYPING_EVERY_MS = 3_000

export class Typing {
  /** Who else is typing, sorted. */
  readonly others = new Store<readonly string[]>([])
  private readonly timers = new Map<string, number>()
  private lastSent = 0
  private active = false

  constructor(
    private readonly me: string,
    /** Send a frame on the room socket; false when not connected. */
    private readonly send: (frame: Record<string, unknown>) => boolean,
    private readonly canPost: () => boolean,
  ) {}

  destroy(): void {
    for (const timer of this.timers.values()) window.clearTimeout(timer)
  }

  /** The text in a composer changed. */
  input(value: string): void {
    if (!this.canPost()) return
    if (!value.trim()) {
      this.stop()
      return
    }
    const now = Date.now()
    if (now - this.lastSent >= TYPING_EVERY_MS && this.send({ type: 'typing', active: true })) {
      this.lastSent = now
      this.active = true
    }
  }

  stop(): void {
    if (!this.active) return
    this.active = false
    this.lastSent = 0
    this.send({ type: 'typing', active: false })
  }

  /** A `typing` frame from the room. */
  show(user: string, active: boolean, expiresIn: number): void {
    if (user === this.me) return
    window.clearTimeout(this.timers.get(user))
    this.timers.delete(user)
    if (active) {
      const timer = window.setTimeout(
        () => {
          this.timers.delete(user)
          this.publish()
        },
        Math.max(1, expiresIn) * 1000,
      )
      this.timers.set(user, timer)
    }
    this.publish()
  }

  /** Others' indicators cannot be renewed while we are disconnected: drop them. */
  clearOthers(): void {
    for (const timer of this.timers.values()) window.clearTimeout(timer)
    this.timers.clear()
    this.publish()
  }

  private publish(): void {
    const names = [...this.timers.keys()].sort()
    const old = this.others.get()
    if (names.length !== old.length || names.some((n, i) => n !== old[i])) this.others.set(names)
  }
}
