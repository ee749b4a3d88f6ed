import { MAX_BODY } from '../api'
import { charCount, formatNumber } from '../lib/format'

/** The counter appears from this many characters (code points, counted like the server). */
export const COUNTER_FROM = 9_000

export interface Counter {
  count: number
  over: boolean
  /** Shown at all? */
  visible: boolean
  /** "9,120 / 10,000", and how much too long when over. */
  text: string
}

export function counterFor(value: string): Counter {
  const count = charCount(value)
  const over = count > MAX_BODY
  const text = `${formatNumber(count)} / ${formatNumber(MAX_BODY)}${over ? ` · ${formatNumber(count - MAX_BODY)} too long` : ''}`
  return { count, over, visible: count >= COUNTER_FROM, text }
}
