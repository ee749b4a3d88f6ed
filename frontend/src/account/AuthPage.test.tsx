import { screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeEach, describe, expect, it } from 'vitest'

import { FakeServer } from '../test/fakeServer'
import { renderPage } from '../test/render'
import { LoginPage, RegisterPage } from './AuthPage'

let server: FakeServer

beforeEach(() => {
  server = new FakeServer()
  server.install()
})

describe('LoginPage', () => {
  it('signs in and goes where ?next= says (local paths only)', async () => {
    const user = userEvent.setup()
    server.on('POST /api/auth/login', () => ({
      body: { id: 1, username: 'alice', name: '', color: '#1565c0' },
    }))
    const { router } = renderPage(<LoginPage />, {
      path: '/login?next=/docs/x',
      pattern: '/login',
      user: null,
    })
    await user.type(screen.getByLabelText('Username'), 'alice')
    await user.type(screen.getByLabelText('Password'), 'secret')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    await screen.findByText('elsewhere')
    expect(router.state.location.pathname).toBe('/docs/x')
    expect(server.requests[0].body).toEqual({ username: 'alice', password: 'secret' })
  })

  it('says how long to wait when the server throttles, and keeps the button off until then', async () => {
    const user = userEvent.setup()
    server.on('POST /api/auth/login', () => ({
      status: 429,
      body: { detail: 'too many attempts', code: 'throttled', retry_after: 600 },
    }))
    renderPage(<LoginPage />, { path: '/login', user: null })
    await user.type(screen.getByLabelText('Username'), 'alice')
    await user.type(screen.getByLabelText('Password'), 'wrong')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Too many sign-in attempts. Try again in 10 minutes.',
    )
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeDisabled()
  })

  it('shows the server’s refusal inside the form', async () => {
    const user = userEvent.setup()
    server.on('POST /api/auth/login', () => ({
      status: 401,
      body: { detail: 'invalid username or password' },
    }))
    renderPage(<LoginPage />, { path: '/login', user: null })
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(screen.getByRole('alert')).toHaveTextContent('Please enter a username and a password.')
    await user.type(screen.getByLabelText('Username'), 'alice')
    await user.type(screen.getByLabelText('Password'), 'wrong')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('invalid username or password')
  })
})

describe('RegisterPage', () => {
  it('registers, then signs in', async () => {
    const user = userEvent.setup()
    server
      .on('POST /api/auth/register', () => ({
        status: 201,
        body: { id: 2, username: 'bob', name: '', color: '#2e7d32' },
      }))
      .on('POST /api/auth/login', () => ({ body: { id: 2, username: 'bob', name: '', color: '#2e7d32' } }))
    renderPage(<RegisterPage />, { path: '/register', user: null })
    await user.type(screen.getByLabelText('Username'), 'bob')
    await user.type(screen.getByLabelText(/^Email/), 'bob@example.com')
    await user.type(screen.getByLabelText('Password'), 'long enough password')
    await user.click(screen.getByRole('button', { name: 'Create account' }))
    await screen.findByText('elsewhere')
    expect(server.requests.map((r) => r.path)).toEqual(['/api/auth/register', '/api/auth/login'])
    expect(server.requests[0].body).toEqual({
      username: 'bob',
      password: 'long enough password',
      email: 'bob@example.com',
    })
  })
})
