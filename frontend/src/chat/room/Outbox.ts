// My messages on their way: each is pending until its message.new arrives (the store then
// swaps it for the message). A refused send is "Not sent" with Retry (the same client_id, so a
// first try that was stored after all is not stored twice) and Discard; a rate limited one is
// sent again by the socket when the server allows.
import type { MessageStore, Pending } from '../messages/MessageStore'
import { newClientId, type ErrorFrame, type RoomSocket, type SendFrame } from '../socket/RoomSocket'
import { ERROR_TEXT, retryAfter } from './errors'
import type { NoticeOptions } from './Notices'

function sendFrame(p: Pending): SendFrame {
  return {
    type: 'message.send',
    client_id: p.clientId,
    body: p.body,
    ...(p.parentId !== null ? { parent_id: p.parentId } : {}),
  }
}

export class Outbox {
  constructor(
    private readonly store: MessageStore,
    private readonly socket: () => RoomSocket | null,
    private readonly warn: (text: string, opts: NoticeOptions) => void,
  ) {}

  post(body: string, parentId: number | null): void {
    const p: Pending = {
      clientId: newClientId(),
      body,
      parentId,
      createdAt: new Date().toISOString(),
      state: 'sending',
    }
    this.store.addPending(p)
    this.socket()?.sendMessage(sendFrame(p))
  }

  retry(clientId: string): void {
    const p = this.store.pending(clientId)
    if (!p) return
    this.store.updatePending(clientId, { state: 'sending', error: undefined })
    this.socket()?.sendMessage(sendFrame(p))
  }

  discard(clientId: string): void {
    this.socket()?.settle(clientId)
    this.store.removePending(clientId)
  }

  /** The server stored it; the message.new follows on this socket. */
  acked(clientId: string, seq: number, id: number): void {
    if (!this.store.pending(clientId)) return
    if (this.store.has(id))
      this.store.removePending(clientId) // the message.new came first
    else this.store.updatePending(clientId, { state: 'acked', seq })
  }

  /** An error frame about one of my sends? Then it is handled here (true). */
  refused(f: ErrorFrame): boolean {
    const p = f.client_id ? this.store.pending(f.client_id) : undefined
    if (!p) return false
    if (f.code === 'rate_limited') {
      const wait = retryAfter(f)
      this.socket()?.holdAndRetry(p.clientId, wait)
      this.warn('You are sending messages too fast.', {
        code: 'rate_limited',
        until: Date.now() + wait * 1000,
      })
      return true
    }
    this.socket()?.settle(p.clientId)
    this.store.updatePending(p.clientId, {
      state: 'failed',
      error: ERROR_TEXT[f.code] ?? f.message ?? f.code,
    })
    return true
  }
}
