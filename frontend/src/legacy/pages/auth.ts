import { api, ApiError } from '../api'
import { h } from '../dom'
import { navigate } from '../router'

function safeNext(): string {
  const next = new URLSearchParams(location.search).get('next')
  // Only allow local absolute paths (no protocol-relative "//evil").
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/'
}

function authPage(root: HTMLElement, mode: 'login' | 'register'): void {
  const isRegister = mode === 'register'
  const error = h('p', { id: 'error', class: 'error', role: 'alert', hidden: true })
  const username = h('input', {
    id: 'username', name: 'username', type: 'text', required: true,
    autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', autofocus: true,
  })
  const password = h('input', {
    id: 'password', name: 'password', type: 'password', required: true,
    autocomplete: isRegister ? 'new-password' : 'current-password',
  })
  const email = isRegister ? h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'email' }) : null
  const submit = h('button', { id: 'submit', type: 'submit', class: 'primary' }, isRegister ? 'Create account' : 'Sign in')

  const showError = (msg: string) => {
    error.textContent = msg
    error.hidden = false
  }

  const form = h(
    'form',
    { class: 'card auth-form', novalidate: true },
    h('h1', {}, isRegister ? 'Create an account' : 'Sign in'),
    h('label', { for: 'username' }, 'Username'),
    username,
    email && [h('label', { for: 'email' }, 'Email ', h('span', { class: 'muted' }, '(optional)')), email],
    h('label', { for: 'password' }, 'Password'),
    password,
    error,
    submit,
    h(
      'p',
      { class: 'muted switch' },
      isRegister ? 'Already have an account? ' : 'No account yet? ',
      h(
        'a',
        { href: (isRegister ? '/login' : '/register') + location.search, 'data-link': true },
        isRegister ? 'Sign in' : 'Register',
      ),
    ),
  )

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    error.hidden = true
    const u = username.value.trim()
    const p = password.value
    if (!u || !p) {
      showError('Please enter a username and a password.')
      return
    }
    submit.disabled = true
    try {
      if (isRegister) await api.register(u, p, email?.value.trim() || undefined)
      await api.login(u, p)
      navigate(safeNext(), true)
    } catch (e) {
      showError(e instanceof ApiError ? e.message : String(e))
    } finally {
      submit.disabled = false
    }
  })

  root.append(h('main', { class: 'auth' }, h('div', { class: 'brand' }, 'Collab'), form))
  document.title = (isRegister ? 'Register' : 'Sign in') + ' · Collab'
  username.focus()
}

export const loginPage = (root: HTMLElement) => authPage(root, 'login')
export const registerPage = (root: HTMLElement) => authPage(root, 'register')
