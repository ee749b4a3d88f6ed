import { useMutation } from '@tanstack/react-query'
import { useState, type SyntheticEvent } from 'react'
import { Link, useParams } from 'react-router'

import { client, unwrap } from '../api/client'
import { ApiError } from '../api/errors'
import { FormError } from '../shared/FormError'
import { AuthLayout } from './AuthPage'

export default function ResetPasswordPage() {
  const { uid = '', token = '' } = useParams()
  const [password, setPassword] = useState('')
  const [repeat, setRepeat] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const confirm = useMutation({
    mutationFn: (newPassword: string) =>
      unwrap(
        client.POST('/api/auth/password-reset/confirm', { body: { uid, token, new_password: newPassword } }),
      ),
  })
  const submit = (event: SyntheticEvent) => {
    event.preventDefault()
    setProblem(null)
    if (password !== repeat) {
      setProblem('The two passwords are not the same.')
      return
    }
    confirm.mutate(password)
  }
  const badLink = confirm.error instanceof ApiError && confirm.error.code === 'invalid_reset_link'
  if (confirm.isSuccess) {
    return (
      <AuthLayout title="Password changed">
        <p className="form-success" role="status" id="reset-done" tabIndex={-1} ref={(el) => el?.focus()}>
          Your password is changed and every session was signed out.
        </p>
        <p>
          <Link to="/login" id="to-login">
            Sign in with the new password
          </Link>
        </p>
      </AuthLayout>
    )
  }
  return (
    <AuthLayout title="Choose a new password">
      <form noValidate onSubmit={submit}>
        <label htmlFor="password">New password</label>
        <input
          id="password"
          type="password"
          required
          autoComplete="new-password"
          autoFocus
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <label htmlFor="password-repeat">New password again</label>
        <input
          id="password-repeat"
          type="password"
          required
          autoComplete="new-password"
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
        />
        <FormError
          id="error"
          error={
            problem ??
            (badLink
              ? 'This link is invalid, expired or was already used. Ask for a new one.'
              : confirm.error)
          }
        />
        <button id="submit" type="submit" className="primary" disabled={confirm.isPending || !password}>
          Set the password
        </button>
      </form>
      <p className="muted switch">
        <Link to="/forgot-password">Ask for a new link</Link>
      </p>
    </AuthLayout>
  )
}
