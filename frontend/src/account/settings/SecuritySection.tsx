import { useState, type SyntheticEvent } from 'react'

import { FormError } from '../../shared/FormError'
import { useChangePassword } from './queries'

export function SecuritySection() {
  const change = useChangePassword()
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [repeat, setRepeat] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [done, setDone] = useState(false)
  const submit = (event: SyntheticEvent) => {
    event.preventDefault()
    setDone(false)
    setProblem(null)
    if (next !== repeat) {
      setProblem('The two new passwords are not the same.')
      return
    }
    change.mutate(
      { current_password: current, new_password: next },
      {
        onSuccess: () => {
          setDone(true)
          setCurrent('')
          setNext('')
          setRepeat('')
        },
      },
    )
  }
  return (
    <>
      <h1>Password</h1>
      <section className="card" aria-labelledby="password-title">
        <h2 id="password-title">Change your password</h2>
        <form className="stack-form" onSubmit={submit}>
          <label htmlFor="current-password">Current password</label>
          <input
            id="current-password"
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
          <label htmlFor="new-password">New password</label>
          <input
            id="new-password"
            type="password"
            autoComplete="new-password"
            required
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
          <label htmlFor="repeat-password">New password again</label>
          <input
            id="repeat-password"
            type="password"
            autoComplete="new-password"
            required
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
          <FormError id="password-error" error={problem ?? change.error} />
          {done && (
            <p className="form-success" role="status" id="password-done">
              Password changed. Your other sessions were signed out.
            </p>
          )}
          <button type="submit" id="password-save" className="primary" disabled={change.isPending}>
            Change password
          </button>
        </form>
      </section>
    </>
  )
}
