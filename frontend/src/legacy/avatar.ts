// Avatar circles (initials on the user's colour) with an optional presence dot.

import { h } from './dom'
import { safeColor } from './pages/common'

// Same palette as the server's cursor colours (collab/accounts/services.py).
const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#46a3a3', '#c2185b', '#6d4c41', '#00897b', '#5e35b1']

/** A stable colour for a username (chat shows people the document's awareness does not). */
export function colorFor(name: string): string {
  let hash = 2166136261
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i)
    hash = Math.imul(hash, 16777619)
  }
  return PALETTE[(hash >>> 0) % PALETTE.length]
}

/** "Alice Smith" → "AS", "bob" → "B", "carol.jones" → "CJ". */
export function initials(name: string): string {
  const parts = name.trim().split(/[\s._-]+/).filter(Boolean)
  const first = (s: string) => (Array.from(s)[0] ?? '').toUpperCase()
  if (parts.length >= 2) return first(parts[0]) + first(parts[1])
  return first(parts[0] ?? '?') || '?'
}

export type AvatarStatus = 'online' | 'away' | 'offline'

export interface AvatarOptions {
  color?: string
  status?: AvatarStatus
  size?: 'xs' | 'sm' | 'md' | 'lg'
  /** Tooltip / accessible name; defaults to the name. Pass '' for a decorative avatar. */
  label?: string
}

export function avatar(name: string, opts: AvatarOptions = {}): HTMLElement {
  const label = opts.label ?? name
  const el = h(
    'span',
    {
      class: `avatar avatar-${opts.size ?? 'md'}`,
      style: `background:${safeColor(opts.color ?? colorFor(name))}`,
      title: label || null,
      role: label ? 'img' : null,
      'aria-label': label || null,
      'aria-hidden': label ? null : 'true',
      'data-user': name,
    },
    h('span', { class: 'avatar-initials', 'aria-hidden': 'true' }, initials(name)),
  )
  if (opts.status) el.append(h('span', { class: `presence-dot presence-${opts.status}`, 'data-status': opts.status }))
  return el
}
