import { Outlet } from 'react-router'

import { RequireUser } from './RequireUser'
import { TopBar } from './TopBar'

/** Every signed-in page: the top bar above the page. */
export function SignedInLayout() {
  return (
    <RequireUser>
      <TopBar />
      <Outlet />
    </RequireUser>
  )
}
