// Minimal history-API router. Pages render into a container and may return a
// cleanup function that runs when navigating away.

export type Cleanup = () => void
export type Page = (root: HTMLElement, params: Record<string, string>) => void | Cleanup | Promise<void | Cleanup>

interface Route {
  pattern: RegExp
  keys: string[]
  page: Page
}

const routes: Route[] = []
let notFound: Page = (root) => {
  root.textContent = 'Not found'
}
let cleanup: Cleanup | null = null
let renderToken = 0
let rootEl: HTMLElement

export function route(path: string, page: Page): void {
  const keys: string[] = []
  const source = path
    .replace(/\/+$/, '')
    .replace(/:([A-Za-z_]+)/g, (_m, key: string) => {
      keys.push(key)
      return '([^/]+)'
    })
  routes.push({ pattern: new RegExp(`^${source}/?$`), keys, page })
}

export function fallback(page: Page): void {
  notFound = page
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  void render()
}

async function render(): Promise<void> {
  const token = ++renderToken
  if (cleanup) {
    try {
      cleanup()
    } catch (e) {
      console.error(e)
    }
    cleanup = null
  }
  const container = document.createElement('div')
  container.className = 'page'
  rootEl.replaceChildren(container)
  const path = location.pathname
  let page = notFound
  let params: Record<string, string> = {}
  for (const r of routes) {
    const m = r.pattern.exec(path)
    if (m) {
      page = r.page
      params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]))
      break
    }
  }
  const result = await page(container, params)
  if (typeof result === 'function') {
    // If the user navigated again while this page was loading, drop it now.
    if (token !== renderToken) result()
    else cleanup = result
  }
}

export function start(root: HTMLElement): void {
  rootEl = root
  window.addEventListener('popstate', () => void render())
  // Intercept same-origin link clicks so navigation stays client-side.
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return
    const a = (ev.target as Element | null)?.closest?.('a')
    if (!a || a.target || a.hasAttribute('download') || !a.hasAttribute('data-link')) return
    const url = new URL(a.href, location.href)
    if (url.origin !== location.origin) return
    ev.preventDefault()
    navigate(url.pathname + url.search + url.hash)
  })
  void render()
}

/** Is this render still the current one? Pages use it after awaits. */
export function currentToken(): number {
  return renderToken
}
