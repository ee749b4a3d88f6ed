import { useEffect } from 'react'
import { Outlet } from 'react-router'

import { useMe } from '../account/queries'
import { RequireUser } from './RequireUser'
import { setThemeChoice } from './theme'
import { TopBar } from './TopBar'

/** The theme chosen on another device follows the person here (the server keeps the choice). */
function useServerTheme(): void {
  const theme = useMe().data?.theme
  useEffect(() => {
    if (theme) setThemeChoice(theme)
  }, [theme])
}

/** Every signed-in page: the top bar above the page. */
export function SignedInLayout() {
  useServerTheme()
  return (
    <RequireUser>
      <TopBar />
      <Outlet />
    </RequireUser>
  )
}
