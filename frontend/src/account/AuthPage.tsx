import { useEffect, useState, type ReactNode, type SyntheticEvent } from 'react'
import { Link, useLocation, useNavigate } from 'react-router'

import { ApiError } from '../api/errors'
import { FormError } from '../shared/FormError'
import { formatWait } from '../shared/format'
import { RegisteredError, safeNext, useLogin, useRegister } from './queries'
import { useCountdown } from './useCountdown'

export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Collab`
  }, [title])
  return (
    <main className="auth" id="main">
      <div className="brand" aria-hidden="true">
        Collab
      </div>
      <div className="card auth-form">
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  )
}

/** When the server throttles (429 with retry_after): seconds until the form may be sent again. */
function useThrottle(): [number, (error: unknown) => void] {
  const [wait, start] = useCountdown()
  const onError = (error: unknown) => {
    if (error instanceof ApiError && error.status === 429 && error.retryAfter !== null)
      start(error.retryAfter)
  }
  return [wait, onError]
}

/**
 * What the form says: the wait while throttled (its 429 is shown as that countdown), else the
 * form's own problem, else the server's refusal.
 */
function formError(wait: number, tooMany: string, problem: string | null, error: unknown): unknown {
  if (wait > 0) return `${tooMany} Try again in ${formatWait(wait)}.`
  if (problem) return problem
  return error instanceof ApiError && error.status === 429 ? null : error
}

export function LoginPage() {
  const navigate = useNavigate()
  const location = useLocation()
  const login = useLogin()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [wait, onError] = useThrottle()

  const submit = (event: SyntheticEvent) => {
    event.preventDefault()
    setProblem(null)
    if (!username.trim() || !password) {
      setProblem('Please enter a username and a password.')
      return
    }
    login.mutate(
      { username: username.trim(), password },
      { onSuccess: () => void navigate(safeNext(location.search), { replace: true }), onError },
    )
  }
  const throttled = wait > 0
  const error = formError(wait, 'Too many sign-in attempts.', problem, login.error)

  const notice = (location.state as { notice?: string } | null)?.notice
  return (
    <AuthLayout title="Sign in">
      {notice && (
        <p className="form-success" role="status">
          {notice}
        </p>
      )}
      <form noValidate onSubmit={submit} aria-describedby={error ? 'error' : undefined}>
        <label htmlFor="username">Username</label>
        <input
          id="username"
          name="username"
          type="text"
          required
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          autoFocus
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          required
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <FormError id="error" error={error} />
        <button id="submit" type="submit" className="primary" disabled={login.isPending || throttled}>
          Sign in
        </button>
      </form>
      <p className="muted switch">
        <Link to="/forgot-password" id="forgot-link">
          Forgot your password?
        </Link>
      </p>
      <p className="muted switch">
        No account yet? <Link to={`/register${location.search}`}>Register</Link>
      </p>
    </AuthLayout>
  )
}

export function RegisterPage() {
  const navigate = useNavigate()
  const location = useLocation()
  const register = useRegister()
  const [username, setUsername] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [wait, onError] = useThrottle()

  const submit = (event: SyntheticEvent) => {
    event.preventDefault()
    setProblem(null)
    if (!username.trim() || !password) {
      setProblem('Please enter a username and a password.')
      return
    }
    register.mutate(
      { username: username.trim(), password, email: email.trim() },
      {
        onSuccess: () => void navigate(safeNext(location.search), { replace: true }),
        onError: (error) => {
          if (error instanceof RegisteredError) {
            void navigate(`/login${location.search}`, { replace: true, state: { notice: error.message } })
          } else {
            onError(error)
          }
        },
      },
    )
  }
  const throttled = wait > 0
  const error = formError(wait, 'Too many attempts.', problem, register.error)

  return (
    <AuthLayout title="Create an account">
      <form noValidate onSubmit={submit}>
        <label htmlFor="username">Username</label>
        <input
          id="username"
          name="username"
          type="text"
          required
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          autoFocus
          maxLength={150}
          aria-describedby="username-help"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <p className="field-help" id="username-help">
          Letters, digits, “.”, “_” and “-”; not case-sensitive.
        </p>
        <label htmlFor="email">
          Email <span className="muted">(optional, to reset a forgotten password)</span>
        </label>
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          required
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <FormError id="error" error={error} />
        <button id="submit" type="submit" className="primary" disabled={register.isPending || throttled}>
          Create account
        </button>
      </form>
      <p className="muted switch">
        Already have an account? <Link to={`/login${location.search}`}>Sign in</Link>
      </p>
    </AuthLayout>
  )
}
