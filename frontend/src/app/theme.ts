// Light or dark: the person's choice ("system" follows prefers-color-scheme), applied as
// <html data-theme>, remembered in this browser (index.html applies it before the first paint).
import { useCallback, useSyncExternalStore } from 'react'

export type ThemeChoice = 'system' | 'light' | 'dark'
export type Theme = 'light' | 'dark'

const STORAGE_KEY = 'collab.theme'
const listeners = new Set<() => void>()
const darkQuery = (): MediaQueryList | null =>
  typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null

export function storedChoice(): ThemeChoice {
  const value = localStorage.getItem(STORAGE_KEY)
  return value === 'light' || value === 'dark' ? value : 'system'
}

export function resolveTheme(choice: ThemeChoice): Theme {
  if (choice !== 'system') return choice
  return darkQuery()?.matches ? 'dark' : 'light'
}

function apply(): void {
  const theme = resolveTheme(storedChoice())
  document.documentElement.dataset.theme = theme
  document.documentElement.style.colorScheme = theme
  for (const listener of listeners) listener()
}

export function setThemeChoice(choice: ThemeChoice): void {
  if (choice === 'system') localStorage.removeItem(STORAGE_KEY)
  else localStorage.setItem(STORAGE_KEY, choice)
  apply()
}

/** Start following the system setting (call once at start-up). */
export function installTheme(): void {
  darkQuery()?.addEventListener('change', apply)
  window.addEventListener('storage', (event) => {
    if (event.key === STORAGE_KEY) apply()
  })
  apply()
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export function useTheme(): { choice: ThemeChoice; theme: Theme; setChoice: (choice: ThemeChoice) => void } {
  const choice = useSyncExternalStore(subscribe, storedChoice)
  const theme = useSyncExternalStore(subscribe, () => resolveTheme(storedChoice()))
  const setChoice = useCallback((next: ThemeChoice) => setThemeChoice(next), [])
  return { choice, theme, setChoice }
}
