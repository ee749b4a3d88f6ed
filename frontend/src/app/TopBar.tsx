import { Link, NavLink, useNavigate } from 'react-router'

import { displayName, useCurrentUser, useLogout } from '../account/queries'
import { ApiError, describeError } from '../api/errors'
import { useUnreadTotal } from '../chat/inbox/useUnreadTotal'
import { Avatar } from '../shared/Avatar'
import { ThemeToggle } from './ThemeToggle'

function UnreadBadge({ total }: { total: number }) {
  if (total <= 0) return <span id="nav-chat-badge" className="nav-badge" hidden />
  return (
    <>
      <span id="nav-chat-badge" className="nav-badge" aria-hidden="true" data-count={total}>
        {total > 99 ? '99+' : total}
      </span>
      <span className="visually-hidden">, {total} unread</span>
    </>
  )
}

export function TopBar() {
  const user = useCurrentUser()
  const logout = useLogout()
  const navigate = useNavigate()
  const unread = useUnreadTotal()
  return (
    <header className="topbar">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Link to="/" className="brand">
        Collab
      </Link>
      <nav className="topnav" aria-label="Main">
        <NavLink id="nav-docs" to="/" end className="nav-link">
          Documents
        </NavLink>
        <NavLink id="nav-chat" to="/chat" className="nav-link">
          Chat <UnreadBadge total={unread} />
        </NavLink>
      </nav>
      <span className="spacer" />
      <ThemeToggle />
      <Link to="/settings" className="me" id="me-link" title={`Settings for ${user.username}`}>
        <Avatar
          name={displayName(user)}
          color={user.color}
          imageUrl={user.avatar_url}
          size="sm"
          label=""
          username={user.username}
        />
        <span className="me-name">{displayName(user)}</span>
      </Link>
      <button
        id="logout"
        type="button"
        className="link-button"
        disabled={logout.isPending}
        onClick={() =>
          logout.mutate(undefined, {
            onSuccess: () => void navigate('/login', { replace: true }),
            onError: (error) => {
              if (error instanceof ApiError && error.status === 401)
                void navigate('/login', { replace: true })
            },
          })
        }
      >
        Log out
      </button>
      {logout.isError && (
        <span className="form-error small topbar-error" role="alert">
          Not logged out: {describeError(logout.error)}
        </span>
      )}
    </header>
  )
}
