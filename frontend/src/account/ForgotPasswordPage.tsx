import { useMutation } from '@tanstack/react-query'
import { useState, type SyntheticEvent } from 'react'
import { Link } from 'react-router'

import { client, unwrap } from '../api/client'
import { ApiError } from '../api/errors'
import { FormError } from '../shared/FormError'
import { formatWait } from '../shared/format'
import { AuthLayout } from './AuthPage'

export default function ForgotPasswordPage() {
  const [email, setEmail] = useState('')
  const request = useMutation({
    mutationFn: (address: string) =>
      unwrap(client.POST('/api/auth/password-reset', { body: { email: address } })),
  })
  const submit = (event: SyntheticEvent) => {
    event.preventDefault()
    if (email.trim()) request.mutate(email.trim())
  }
  const error =
    request.error instanceof ApiError && request.error.status === 429 && request.error.retryAfter !== null
      ? `Too many requests. Try again in ${formatWait(request.error.retryAfter)}.`
      : request.error
  return (
    <AuthLayout title="Reset your password">
      {request.isSuccess ? (
        <p className="form-success" role="status" id="reset-sent" tabIndex={-1} ref={(el) => el?.focus()}>
          If an account has this address, a link to choose a new password is on its way to {email.trim()}. It
          can be used once.
        </p>
      ) : (
        <form noValidate onSubmit={submit}>
          <p className="muted small">Enter the email address of your account; we send you a link.</p>
          <label htmlFor="email">Email</label>
          <input
            id="email"
            type="email"
            required
            autoComplete="email"
            autoFocus
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <FormError id="error" error={error} />
          <button id="submit" type="submit" className="primary" disabled={request.isPending || !email.trim()}>
            Send the link
          </button>
        </form>
      )}
      <p className="muted switch">
        <Link to="/login">Back to sign in</Link>
      </p>
    </AuthLayout>
  )
}
