import { api, ApiError, type User } from '../api'
import { h } from '../dom'
import { navigate } from '../router'

/** Fetch the current user; redirect to /login (keeping ?next=) when not signed in. */
export async function requireUser(): Promise<User | null> {
  try {
    return await api.me()
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      const next = location.pathname + location.search
      navigate(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`, true)
      return null
    }
    throw e
  }
}

export function displayName(user: User): string {
  return user.name || user.username
}

export function header(user: User, extra: Node[] = []): HTMLElement {
  const logout = h('button', { id: 'logout', type: 'button', class: 'link-button' }, 'Log out')
  logout.addEventListener('click', async () => {
    logout.disabled = true
    try {
      await api.logout()
    } catch (e) {
      console.warn('logout failed', e)
    }
    navigate('/login', true)
  })
  return h(
    'header',
    { class: 'topbar' },
    h('a', { href: '/', class: 'brand', 'data-link': true }, 'Collab'),
    ...extra,
    h('span', { class: 'spacer' }),
    h(
      'span',
      { class: 'me', title: user.username },
      h('span', { class: 'dot', style: `background:${safeColor(user.color)}` }),
      displayName(user),
    ),
    logout,
  )
}

/** Accept only simple CSS colours (#hex, rgb()/hsl()) so we can put them in style attributes. */
export function safeColor(color: string | undefined | null, fallbackColor = '#888888'): string {
  if (!color) return fallbackColor
  const c = color.trim()
  if (/^#[0-9a-fA-F]{3,8}$/.test(c)) return c
  if (/^(rgb|rgba|hsl|hsla)\([0-9.,%\s/a-z-]+\)$/i.test(c)) return c
  return fallbackColor
}

export function errorView(root: HTMLElement, err: unknown): void {
  const msg = err instanceof ApiError ? err.message : String(err)
  root.append(
    h('main', { class: 'container' }, h('p', { id: 'error', class: 'error', role: 'alert' }, msg)),
  )
}
