import { useUpdateProfile } from '../account/settings/queries'
import { useTheme, type ThemeChoice } from './theme'

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'dark', dark: 'light', light: 'system' }
const LABEL: Record<ThemeChoice, string> = {
  system: 'System theme',
  dark: 'Dark theme',
  light: 'Light theme',
}
const ICON: Record<ThemeChoice, string> = { system: '◐', dark: '☾', light: '☀' }

/** Cycles system → dark → light; the settings page offers the same choice as a list. */
export function ThemeToggle() {
  const { choice, setChoice } = useTheme()
  const update = useUpdateProfile()
  return (
    <button
      type="button"
      id="theme-toggle"
      className="icon-button"
      data-theme-choice={choice}
      aria-label={`${LABEL[choice]} (change)`}
      title={`${LABEL[choice]}: click for ${LABEL[NEXT[choice]].toLowerCase()}`}
      onClick={() => {
        setChoice(NEXT[choice])
        update.mutate({ theme: NEXT[choice] })
      }}
    >
      <span aria-hidden="true">{ICON[choice]}</span>
    </button>
  )
}
