import { api, ApiError, type User } from '../api'
import { chatApi } from '../chat/api'
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

/** The signed-in user for a page; null after a redirect to /login, or with the failure shown in `root`. */
export async function requireUserOrShowError(root: HTMLElement): Promise<User | null> {
  try {
    return await requireUser()
  } catch (e) {
    errorView(root, e)
    return null
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
  const path = location.pathname
  const onChat = path === '/chat' || path.startsWith('/chat/')
  const navLink = (id: string, href: string, label: string, current: boolean, ...more: Node[]) =>
    h('a', { id, href, class: 'nav-link', 'data-link': true, 'aria-current': current ? 'page' : null }, label, ...more)
  const badge = h('span', { id: 'nav-chat-badge', class: 'nav-badge', hidden: true })
  const nav = h(
    'nav',
    { class: 'topnav', 'aria-label': 'Main' },
    navLink('nav-docs', '/', 'Documents', !onChat),
    navLink('nav-chat', '/chat', 'Chat', onChat, badge),
  )
  if (!onChat) {
    // One look at the room list for the unread total (the chat page keeps it live itself).
    chatApi.rooms().then(
      (rooms) => setNavUnread(rooms.reduce((n, r) => n + (r.unread || 0), 0), badge),
      () => undefined,
    )
  }
  return h(
    'header',
    { class: 'topbar' },
    h('a', { href: '/', class: 'brand', 'data-link': true }, 'Collab'),
    nav,
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

/** Show the total unread chat messages on the "Chat" link of the top bar. */
export function setNavUnread(total: number, badge = document.getElementById('nav-chat-badge')): void {
  if (!badge) return
  badge.textContent = total > 99 ? '99+' : String(total)
  badge.hidden = total <= 0
  badge.setAttribute('aria-label', `${total} unread`)
}
