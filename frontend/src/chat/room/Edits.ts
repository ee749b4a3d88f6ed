// Editing a message in place: Enter saves, Esc cancels; the box stays until the server's change
// frame confirms the edit (a newer version of the message), a refusal, or 10 s without answer.
import { MAX_BODY, type Message } from '../api'
import { charCount } from '../lib/format'
import { Store } from '../lib/store'
import { ERROR_TEXT } from './errors'

const SAVE_TIMEOUT_MS = 10_000

export type Where = 'main' | 'thread'

export interface EditState {
  id: number
  where: Where
  saving: boolean
  /** Why the last save did not go through. */
  error: string | null
  /** The message's version when saving: a change frame with a higher one confirms the save. */
  version: number
}

export class Edits {
  readonly state = new Store<EditState | null>(null)
  private timer: number | undefined

  constructor(
    private readonly me: string,
    private readonly send: (frame: Record<string, unknown>) => boolean,
    private readonly offline: () => void,
  ) {}

  start(m: Message, where: Where): void {
    if (m.deleted || m.author !== this.me) return
    window.clearTimeout(this.timer)
    this.state.set({ id: m.id, where, saving: false, error: null, version: m.version_seq })
  }

  cancel(): void {
    window.clearTimeout(this.timer)
    this.state.set(null)
  }

  save(m: Message, body: string): void {
    const edit = this.state.get()
    if (edit?.id !== m.id || edit.saving) return
    if (!body.trim() || body === m.body) return this.cancel()
    if (charCount(body) > MAX_BODY) {
      this.state.set({ ...edit, error: ERROR_TEXT.too_long })
      return
    }
    if (!this.send({ type: 'message.edit', id: m.id, body })) return this.offline()
    this.state.set({ ...edit, saving: true, error: null, version: m.version_seq })
    this.timer = window.setTimeout(() => this.fail(), SAVE_TIMEOUT_MS)
  }

  /** A change of `m` arrived: if it is the edit being saved, the edit is done. */
  changed(m: Message): void {
    const edit = this.state.get()
    if (edit?.id !== m.id) return
    if ((edit.saving && m.version_seq > edit.version) || m.deleted) this.cancel()
  }

  /** The server refused something while an edit was saving: assume it was the edit. */
  refused(): void {
    if (this.state.get()?.saving) this.fail()
  }

  destroy(): void {
    window.clearTimeout(this.timer)
  }

  private fail(): void {
    window.clearTimeout(this.timer)
    const edit = this.state.get()
    if (edit) this.state.set({ ...edit, saving: false, error: 'Not saved — try again.' })
  }
}
