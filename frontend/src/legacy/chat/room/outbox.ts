// My messages on their way: each shows as pending until its message.new arrives and takes
// the element over. A refused send is marked "Not sent" with Retry (the same client_id, so a
// first try that was stored after all is not stored twice) and Discard; a rate limited one
// is sent again by the socket when the server allows.

import type { Message } from '../api'
import { fillPending, type Pending } from '../message-el'
import { newClientId, type ErrorFrame, type SendFrame } from '../socket'
import { messageKey, pendingKey } from './elements'
import { ERROR_TEXT, retryAfter } from './errors'
import type { RoomView } from './index'

function sendFrame(p: Pending): SendFrame {
  return { type: 'message.send', client_id: p.clientId, body: p.body, ...(p.parentId !== null ? { parent_id: p.parentId } : {}) }
}

export class Outbox {
  constructor(private readonly view: RoomView) {}

  send(body: string, parentId: number | null): void {
    const p: Pending = { clientId: newClientId(), body, parentId, createdAt: new Date().toISOString(), state: 'sending' }
    this.view.store.pending.set(p.clientId, p)
    this.view.socket?.sendMessage(sendFrame(p))
  }

  retry(p: Pending): void {
    p.state = 'sending'
    p.error = undefined
    this.refresh(p)
    this.view.socket?.sendMessage(sendFrame(p))
  }

  discard(p: Pending): void {
    this.view.socket?.settle(p.clientId)
    this.view.store.pending.delete(p.clientId)
    this.view.list.els.remove(pendingKey(p.clientId))
    this.view.thread.els.remove(pendingKey(p.clientId))
  }

  /** The server stored it; the message.new follows on this socket. */
  acked(clientId: string, seq: number, id: number): void {
    const { store } = this.view
    if (!store.pending.has(clientId)) return
    if (store.has(id)) {
      store.pending.delete(clientId) // the message.new arrived first
      return
    }
    // Show it as sent meanwhile.
    const el = this.view.list.els.get(pendingKey(clientId)) ?? this.view.thread.els.get(pendingKey(clientId))
    if (el) {
      el.dataset.state = 'acked'
      el.dataset.seq = String(seq)
      el.querySelector('.msg-sending')?.remove()
    }
  }

  /** The message.new of a pending send arrived: the pending element becomes the real one. */
  confirmed(p: Pending, m: Message): void {
    this.view.socket?.settle(m.client_id)
    this.view.list.els.rekey(pendingKey(p.clientId), messageKey(m.id))
    this.view.thread.els.rekey(pendingKey(p.clientId), messageKey(m.id))
  }

  /** An error frame about one of my sends? Then it is handled here (true). */
  refused(f: ErrorFrame): boolean {
    const p = f.client_id ? this.view.store.pending.get(f.client_id) : undefined
    if (!p) return false
    if (f.code === 'rate_limited') {
      const wait = retryAfter(f)
      this.view.socket?.holdAndRetry(p.clientId, wait)
      this.view.notice('You are sending messages too fast.', 'warn', { code: 'rate_limited', until: Date.now() + wait * 1000 })
      return true
    }
    this.view.socket?.settle(p.clientId)
    p.state = 'failed'
    p.error = ERROR_TEXT[f.code] ?? f.message ?? f.code
    this.refresh(p)
    return true
  }

  private refresh(p: Pending): void {
    const key = pendingKey(p.clientId)
    const mainEl = this.view.list.els.get(key)
    if (mainEl) fillPending(mainEl, p, this.view.messageActions('main'), this.view.me)
    const threadEl = this.view.thread.els.get(key)
    if (threadEl) fillPending(threadEl, p, this.view.messageActions('thread'), this.view.me)
  }
}
