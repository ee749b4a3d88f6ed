import { useIsMutating } from '@tanstack/react-query'
import { useEffect } from 'react'
import { Outlet, useLocation } from 'react-router'

import { useMe } from '../account/queries'
import { profileMutationKey } from '../account/settings/queries'
import { RequireUser } from './RequireUser'
import { focusMainIfLost } from '../shared/focus'
import { setThemeChoice } from './theme'
import { TopBar } from './TopBar'

/** The theme chosen on another device follows the person here (the server keeps the choice). */
function useServerTheme(): void {
  const theme = useMe().data?.theme
  // While a change of it is on its way, the choice just made wins over older answers.
  const changing = useIsMutating({ mutationKey: profileMutationKey }) > 0
  useEffect(() => {
    if (theme && !changing) setThemeChoice(theme)
  }, [theme, changing])
}

/** Every signed-in page: the top bar above the page. */
/** After moving to another page, a focus left on a removed link goes to the new page's content. */
function useFocusOnNavigation(): void {
  const { pathname } = useLocation()
  useEffect(() => {
    const timer = window.setTimeout(focusMainIfLost, 0)
    return () => window.clearTimeout(timer)
  }, [pathname])
}

export function SignedInLayout() {
  useServerTheme()
  useFocusOnNavigation()
  return (
    <RequireUser>
      <TopBar />
      <Outlet />
    </RequireUser>
  )
}
