import { useEffect, useRef, type RefObject } from 'react'

const KEYS = new Set(['ArrowLeft', 'ArrowRight', 'Home', 'End'])

/**
 * WAI-ARIA toolbar keys for the buttons inside `container`: one Tab stop for the whole row (the
 * button used last, else the first enabled one), ←/→ move between enabled buttons, Home/End to
 * the ends.
 */
export function useRovingFocus(container: RefObject<HTMLElement | null>): void {
  const current = useRef<HTMLElement | null>(null)

  // After every render: buttons come and go or get disabled, so the Tab stop is placed again.
  useEffect(() => {
    const root = container.current
    if (!root) return
    const enabled = [...root.querySelectorAll<HTMLButtonElement>('button:not(:disabled)')]
    const last = current.current
    const stop = enabled.find((button) => button === last) ?? enabled[0]
    for (const button of root.querySelectorAll('button')) button.tabIndex = button === stop ? 0 : -1
  })

  useEffect(() => {
    const root = container.current
    if (!root) return
    const onFocus = (event: FocusEvent) => {
      if (!(event.target instanceof HTMLButtonElement)) return
      current.current = event.target
      for (const button of root.querySelectorAll('button')) button.tabIndex = button === event.target ? 0 : -1
    }
    const onKeyDown = (event: KeyboardEvent) => {
      if (!KEYS.has(event.key)) return
      const enabled = [...root.querySelectorAll<HTMLButtonElement>('button:not(:disabled)')]
      if (enabled.length === 0) return
      const at = enabled.findIndex((button) => button === document.activeElement)
      const step = event.key === 'ArrowRight' ? 1 : -1
      const next =
        event.key === 'Home'
          ? 0
          : event.key === 'End'
            ? enabled.length - 1
            : (at + step + enabled.length) % enabled.length
      event.preventDefault()
      enabled[next].focus()
    }
    root.addEventListener('focusin', onFocus)
    root.addEventListener('keydown', onKeyDown)
    return () => {
      root.removeEventListener('focusin', onFocus)
      root.removeEventListener('keydown', onKeyDown)
    }
  }, [container])
}
