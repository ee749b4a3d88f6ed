// What this page knows of a room's messages: confirmed ones by id, the top-level ones in seq
// order, the replies of each parent, and my sends still waiting for the server. Plain TS:
// components read its snapshot through useSyncExternalStore (useStore).
//
// Every message object is replaced, never changed in place, so React can skip the unchanged.
import type { Message, Reaction } from '../api'
import type { Readable } from '../lib/store'

export interface Pending {
  clientId: string
  body: string
  parentId: number | null
  createdAt: string
  /** sending → acked (stored; its message.new is on the way) or failed (refused). */
  state: 'sending' | 'acked' | 'failed'
  seq?: number
  error?: string
}

export interface MessagesSnapshot {
  version: number
  /** Top-level messages, oldest first. */
  top: readonly Message[]
  pending: readonly Pending[]
  /** The server sends `reactions`: show reaction chips and buttons. */
  reactionsSeen: boolean
  maxSeq: number
}

export class MessageStore implements Readable<MessagesSnapshot> {
  private readonly messages = new Map<number, Message>()
  private readonly order: number[] = []
  private readonly repliesOf = new Map<number, Set<number>>()
  private readonly pendingByClient = new Map<string, Pending>()
  private readonly listeners = new Set<() => void>()
  private snapshot: MessagesSnapshot = { version: 0, top: [], pending: [], reactionsSeen: false, maxSeq: 0 }
  private dirty = false
  private batching = 0
  private reactionsSeen = false
  private maxSeq = 0

  constructor(
    private readonly me: string,
    /** One of my sends arrived as a message (it is already out of `pending`). */
    private readonly onConfirmed: (p: Pending, m: Message) => void = () => undefined,
  ) {}

  // ------------------------------------------------------------ reading

  readonly get = (): MessagesSnapshot => {
    if (this.dirty) {
      this.dirty = false
      this.snapshot = {
        version: this.snapshot.version + 1,
        top: this.order.map((id) => this.messages.get(id)).filter((m): m is Message => !!m),
        pending: [...this.pendingByClient.values()],
        reactionsSeen: this.reactionsSeen,
        maxSeq: this.maxSeq,
      }
    }
    return this.snapshot
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  message(id: number): Message | undefined {
    return this.messages.get(id)
  }

  has(id: number): boolean {
    return this.messages.has(id)
  }

  pending(clientId: string): Pending | undefined {
    return this.pendingByClient.get(clientId)
  }

  /** The replies to `parentId` this page has, oldest first. */
  repliesTo(parentId: number): Message[] {
    return [...(this.repliesOf.get(parentId) ?? [])]
      .map((id) => this.messages.get(id))
      .filter((m): m is Message => !!m)
      .sort((x, y) => x.seq - y.seq)
  }

  /** Replies to `id` that are not deleted (for servers that send no `reply_count`). */
  liveReplies(id: number): number {
    let n = 0
    for (const rid of this.repliesOf.get(id) ?? []) if (!this.messages.get(rid)?.deleted) n++
    return n
  }

  replyCount(m: Message): number {
    return typeof m.reply_count === 'number' ? m.reply_count : this.liveReplies(m.id)
  }

  /** The newest top-level message of mine that can still be edited. */
  lastOwn(): Message | undefined {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const m = this.messages.get(this.order[i])
      if (m && m.author === this.me && !m.deleted) return m
    }
    return undefined
  }

  findBySeq(seq: number): Message | undefined {
    for (const m of this.messages.values()) if (m.seq === seq) return m
    return undefined
  }

  oldestSeq(): number | null {
    let oldest: number | null = null
    for (const m of this.messages.values()) oldest = oldest === null ? m.seq : Math.min(oldest, m.seq)
    return oldest
  }

  /** The highest version this page has seen: the socket resumes after it. */
  highestVersion(): number {
    let version = 0
    for (const m of this.messages.values()) version = Math.max(version, m.version_seq)
    return version
  }

  pendingIn(parentId: number | null): Pending[] {
    return [...this.pendingByClient.values()].filter((p) => p.parentId === parentId)
  }

  // ------------------------------------------------------------ changing

  /** Run `fn` and tell the listeners once, at the end. */
  batch(fn: () => void): void {
    this.batching++
    try {
      fn()
    } finally {
      this.batching--
      this.changed(false)
    }
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
      else this.addReply(m, live)
    }
    const p = m.author === this.me && m.client_id ? this.pendingByClient.get(m.client_id) : undefined
    if (p) {
      this.pendingByClient.delete(p.clientId)
      this.onConfirmed(p, m)
    }
    this.changed(true)
    return true
  }

  /** Replace a message's fields without a new version (reply counts, optimistic reactions). */
  patch(id: number, fields: Partial<Message>): void {
    const m = this.messages.get(id)
    if (!m) return
    this.messages.set(id, { ...m, ...fields })
    this.changed(true)
  }

  /** My reaction, shown at once; returns how to take it back if the server says no. */
  optimisticReaction(id: number, emoji: string, add: boolean): () => void {
    const m = this.messages.get(id)
    if (!m) return () => undefined
    const before = m.reactions
    const list: Reaction[] = (before ?? []).map((r) => ({ ...r, users: [...r.users] }))
    const r = list.find((x) => x.emoji === emoji)
    if (add && !r) list.push({ emoji, count: 1, users: [this.me] })
    else if (add && r && !r.users.includes(this.me)) {
      r.users.push(this.me)
      r.count++
    } else if (!add && r && r.users.includes(this.me)) {
      r.users = r.users.filter((u) => u !== this.me)
      r.count--
    }
    this.patch(id, { reactions: list.filter((x) => x.count > 0) })
    const version = m.version_seq
    return () => {
      // Only if nothing newer came from the server meanwhile.
      if (this.messages.get(id)?.version_seq === version) this.patch(id, { reactions: before })
    }
  }

  addPending(p: Pending): void {
    this.pendingByClient.set(p.clientId, p)
    this.changed(true)
  }

  updatePending(clientId: string, fields: Partial<Pending>): void {
    const p = this.pendingByClient.get(clientId)
    if (!p) return
    this.pendingByClient.set(clientId, { ...p, ...fields })
    this.changed(true)
  }

  removePending(clientId: string): void {
    if (this.pendingByClient.delete(clientId)) this.changed(true)
  }

  private addReply(m: Message, live: boolean): void {
    const parentId = m.parent_id
    if (parentId === null) return
    let set = this.repliesOf.get(parentId)
    if (!set) this.repliesOf.set(parentId, (set = new Set()))
    set.add(m.id)
    // A live reply we did not know: the parent's count (from its last payload) lacks it.
    // (Any later change frame of the parent carries the server's count again.)
    const parent = this.messages.get(parentId)
    if (live && parent && typeof parent.reply_count === 'number' && m.created_version > parent.version_seq) {
      this.messages.set(parentId, { ...parent, reply_count: parent.reply_count + 1 })
    }
  }

  private changed(dirty: boolean): void {
    if (dirty) this.dirty = true
    if (this.batching || !this.dirty) return
    for (const listener of [...this.listeners]) listener()
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
