// The elements of one message list (the room's log or a thread), keyed so that a pending
// send's element can become the confirmed message's element without being rebuilt (no flicker).

import { h } from '../../dom'

export const messageKey = (id: number): string => `m:${id}`
export const pendingKey = (clientId: string): string => `p:${clientId}`

export class MessageElements {
  private readonly byKey = new Map<string, HTMLElement>()

  get(key: string): HTMLElement | undefined {
    return this.byKey.get(key)
  }

  /** A new, empty message element registered under `key`; the caller fills it. */
  create(key: string): HTMLElement {
    const el = h('article', {})
    this.byKey.set(key, el)
    return el
  }

  getOrCreate(key: string): HTMLElement {
    return this.byKey.get(key) ?? this.create(key)
  }

  rekey(from: string, to: string): void {
    const el = this.byKey.get(from)
    if (!el) return
    this.byKey.delete(from)
    this.byKey.set(to, el)
  }

  /** Take the element out of the page and forget it. */
  remove(key: string): void {
    this.byKey.get(key)?.remove()
    this.byKey.delete(key)
  }

  clear(): void {
    this.byKey.clear()
  }
}

/** Make `parent`'s children exactly `desired`, moving only the nodes that are out of place. */
export function reconcile(parent: HTMLElement, desired: Node[]): void {
  let cur = parent.firstChild
  for (const node of desired) {
    if (node === cur) cur = cur.nextSibling
    else parent.insertBefore(node, cur)
  }
  while (cur) {
    const next = cur.nextSibling
    parent.removeChild(cur)
    cur = next
  }
}

export function flash(el: HTMLElement | undefined): void {
  if (!el) return
  el.classList.remove('flash')
  void el.offsetWidth // restart the animation
  el.classList.add('flash')
  window.setTimeout(() => el.classList.remove('flash'), 2500)
}

/** Grow a textarea with its text, up to 40% of the window. */
export function autoGrow(t: HTMLTextAreaElement): void {
  t.style.height = 'auto'
  t.style.height = `${Math.min(t.scrollHeight, Math.round(window.innerHeight * 0.4))}px`
}
