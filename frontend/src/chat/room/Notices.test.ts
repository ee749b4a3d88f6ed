import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { Notices } from './Notices'

describe('Notices', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('keeps at most three, one per code, and lets them go by themselves', () => {
    const notices = new Notices()
    notices.show('a', 'info', { code: 'x' })
    notices.show('b', 'error', { code: 'x' })
    expect(notices.get().map((n) => n.text)).toEqual(['b'])
    notices.show('c')
    notices.show('d')
    notices.show('e')
    expect(notices.get().map((n) => n.text)).toEqual(['c', 'd', 'e'])
    vi.advanceTimersByTime(6001)
    expect(notices.get()).toEqual([])
  })

  it('a countdown notice goes when its time is up', () => {
    const notices = new Notices()
    notices.show('wait', 'warn', { code: 'rate_limited', until: Date.now() + 2000 })
    vi.advanceTimersByTime(1900)
    expect(notices.get()).toHaveLength(1)
    vi.advanceTimersByTime(200)
    expect(notices.get()).toHaveLength(0)
  })
})
