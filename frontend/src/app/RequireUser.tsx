import type { ReactNode } from 'react'
import { Navigate, useLocation } from 'react-router'

import { useMe } from '../account/queries'
import { FormError } from '../shared/FormError'

/** Renders its children for a signed-in user; otherwise sends the person to /login?next=here. */
export function RequireUser({ children }: { children: ReactNode }) {
  const me = useMe()
  const location = useLocation()
  if (me.isPending) {
    return (
      <p className="loading muted" role="status">
        Loading…
      </p>
    )
  }
  if (me.isError && me.data === undefined) {
    return (
      <main className="container" id="main">
        <FormError error={me.error} />
        <button type="button" onClick={() => void me.refetch()}>
          Try again
        </button>
      </main>
    )
  }
  if (!me.data) {
    const next = location.pathname + location.search + location.hash
    return <Navigate to={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`} replace />
  }
  return children
}
