import { useCallback, useEffect, useState } from 'react'

interface Clock {
  until: number
  now: number
}

/**
 * A countdown started from an event handler: `[secondsLeft, start(seconds)]`, ticking every
 * second, 0 when none is running. (For waits the server asks for, e.g. a throttled sign-in.)
 */
export function useCountdown(): [number, (seconds: number) => void] {
  const [clock, setClock] = useState<Clock | null>(null)
  const start = useCallback((seconds: number) => {
    const now = Date.now()
    setClock({ until: now + seconds * 1000, now })
  }, [])
  const until = clock?.until ?? null
  useEffect(() => {
    if (until === null) return
    const timer = window.setInterval(() => {
      const now = Date.now()
      setClock(now >= until ? null : { until, now })
    }, 1000)
    return () => window.clearInterval(timer)
  }, [until])
  return [clock ? Math.max(0, Math.ceil((clock.until - clock.now) / 1000)) : 0, start]
}
