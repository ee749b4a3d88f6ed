import { useState } from 'react'
import { useNavigate } from 'react-router'

import { ConfirmDialog } from '../../shared/Dialog'
import { FormError } from '../../shared/FormError'
import { formatDate } from '../../shared/format'
import { useEndSession, useLogoutEverywhere, useSessions } from './queries'

/** "Chrome on Linux" from a user agent string: enough to recognise one's own devices. */
export function describeAgent(agent: string): string {
  if (!agent) return 'Unknown browser'
  const browser = /Edg\//.test(agent)
    ? 'Edge'
    : /Firefox\//.test(agent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(agent)
        ? 'Chrome'
        : /Safari\//.test(agent)
          ? 'Safari'
          : 'Browser'
  const system = /Android/.test(agent)
    ? 'Android'
    : /iPhone|iPad/.test(agent)
      ? 'iOS'
      : /Windows/.test(agent)
        ? 'Windows'
        : /Mac OS X/.test(agent)
          ? 'macOS'
          : /Linux/.test(agent)
            ? 'Linux'
            : ''
  return system ? `${browser} on ${system}` : browser
}

export function SessionsSection() {
  const sessions = useSessions()
  const end = useEndSession()
  const everywhere = useLogoutEverywhere()
  const navigate = useNavigate()
  const [confirming, setConfirming] = useState(false)
  const others = (sessions.data ?? []).filter((s) => !s.current).length
  return (
    <>
      <h1>Sessions</h1>
      <section className="card" aria-labelledby="sessions-title">
        <h2 id="sessions-title">Where you are signed in</h2>
        <FormError error={sessions.error ?? end.error ?? everywhere.error} />
        <ul className="row-list" id="session-list">
          {(sessions.data ?? []).map((session) => (
            <li key={session.id} data-session-id={session.id} data-current={session.current}>
              <div className="row-main">
                <div className="row-title">
                  {describeAgent(session.user_agent)}
                  {session.current && <span className="badge"> this browser</span>}
                </div>
                <div className="small muted">
                  {session.ip || 'unknown address'} · signed in {formatDate(session.created_at)} · last seen{' '}
                  {formatDate(session.last_seen_at)}
                </div>
              </div>
              {!session.current && (
                <button
                  type="button"
                  aria-label={`Sign out ${describeAgent(session.user_agent)} (${session.ip})`}
                  onClick={() => end.mutate(session.id)}
                  disabled={end.isPending}
                >
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
        <div className="dialog-actions">
          <button
            type="button"
            id="logout-others"
            disabled={others === 0 || everywhere.isPending}
            onClick={() => everywhere.mutate(false)}
          >
            Sign out all other sessions
          </button>
          <button type="button" id="logout-everywhere" className="danger" onClick={() => setConfirming(true)}>
            Log out everywhere
          </button>
        </div>
      </section>
      <ConfirmDialog
        id="logout-everywhere-dialog"
        open={confirming}
        title="Log out everywhere?"
        message={<p>Every browser signed in to your account is signed out, this one included.</p>}
        confirmLabel="Log out everywhere"
        danger
        busy={everywhere.isPending}
        onClose={() => setConfirming(false)}
        onConfirm={() =>
          everywhere.mutate(true, {
            onSuccess: () => void navigate('/login', { replace: true }),
            onSettled: () => setConfirming(false),
          })
        }
      />
    </>
  )
}
