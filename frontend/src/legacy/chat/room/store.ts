// What this page knows of a room's messages: confirmed ones by id, the top-level ones in
// seq order, the replies of each parent, and the sends still waiting for the server.

import type { Message } from '../api'
import type { Pending } from '../message-el'

export class MessageStore {
  readonly messages = new Map<number, Message>()
  /** Top-level message ids by seq. */
  readonly order: number[] = []
  readonly repliesOf = new Map<number, Set<number>>()
  /** Own sends by client id, until their message.new arrives. */
  readonly pending = new Map<string, Pending>()
  /** The server sends `reactions`: show reaction chips and buttons. */
  reactionsSeen = false
  maxSeq = 0

  constructor(
    private readonly me: string,
    /** Our own message arrived: its pending send is over (already taken out of `pending`). */
    private readonly onConfirmed: (p: Pending, m: Message) => void,
  ) {}

  get(id: number): Message | undefined {
    return this.messages.get(id)
  }

  has(id: number): boolean {
    return this.messages.has(id)
  }

  /** Merge one message (REST page or change frame). Returns true if it changed anything. */
  put(m: Message, live: boolean): boolean {
    if (Array.isArray(m.reactions)) this.reactionsSeen = true
    const old = this.messages.get(m.id)
    if (old && old.version_seq > m.version_seq) return false // we already have a newer state
    if (old && old.version_seq === m.version_seq && !live) return false
    this.messages.set(m.id, m)
    this.maxSeq = Math.max(this.maxSeq, m.seq)
    if (!old) {
      if (m.parent_id === null) insertSorted(this.order, m.id, (id) => this.messages.get(id)?.seq ?? 0)
      else {
        let set = this.repliesOf.get(m.parent_id)
        if (!set) this.repliesOf.set(m.parent_id, (set = new Set()))
        set.add(m.id)
        // A live reply we did not know: the parent's count (from its last payload) lacks it.
        // (Any later change frame of the parent carries the server's count again.)
        const parent = this.messages.get(m.parent_id)
        if (live && parent && typeof parent.reply_count === 'number' && m.created_version > parent.version_seq) parent.reply_count += 1
      }
    }
    const p = m.author === this.me && m.client_id ? this.pending.get(m.client_id) : undefined
    if (p) {
      this.pending.delete(p.clientId)
      this.onConfirmed(p, m)
    }
    return true
  }

  /** Replies to `id` that are not deleted (for servers that send no `reply_count`). */
  liveReplies(id: number): number {
    let n = 0
    for (const rid of this.repliesOf.get(id) ?? []) if (!this.messages.get(rid)?.deleted) n++
    return n
  }

  /** The replies to `parentId` this page has, oldest first. */
  repliesTo(parentId: number): Message[] {
    return [...(this.repliesOf.get(parentId) ?? [])]
      .map((id) => this.messages.get(id)!)
      .filter(Boolean)
      .sort((x, y) => x.seq - y.seq)
  }

  /** The newest top-level message of mine that can still be edited. */
  lastOwn(): Message | undefined {
    return [...this.order].reverse().map((id) => this.messages.get(id)).find((m) => m && m.author === this.me && !m.deleted)
  }

  findBySeq(seq: number): Message | undefined {
    return [...this.messages.values()].find((x) => x.seq === seq)
  }

  /** The highest version this page has seen: the socket resumes after it. */
  highestVersion(): number {
    let version = 0
    for (const m of this.messages.values()) version = Math.max(version, m.version_seq)
    return version
  }

  pendingIn(parentId: number | null): Pending[] {
    return [...this.pending.values()].filter((p) => p.parentId === parentId)
  }
}

function insertSorted(arr: number[], id: number, key: (id: number) => number): void {
  const k = key(id)
  let lo = 0
  let hi = arr.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (key(arr[mid]) < k) lo = mid + 1
    else hi = mid
  }
  arr.splice(lo, 0, id)
}
