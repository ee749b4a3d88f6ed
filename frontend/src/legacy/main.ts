import './style.css'
import { fallback, route, start } from './router'
import { loginPage, registerPage } from './pages/auth'
import { homePage } from './pages/home'
import { h } from './dom'

route('/', homePage)
route('/login', loginPage)
route('/register', registerPage)
// The editor (Tiptap + Yjs) is the heavy part: load it only on document pages.
route('/docs/:id', async (root, params) => (await import('./pages/doc')).docPage(root, params))
const chat = async (root: HTMLElement, params: Record<string, string>) => (await import('./pages/chat')).chatPage(root, params)
route('/chat', chat)
route('/chat/:id', chat)
fallback((root) => {
  document.title = 'Not found · Collab'
  root.append(
    h(
      'main',
      { class: 'container' },
      h('h1', {}, 'Page not found'),
      h('p', {}, h('a', { href: '/', 'data-link': true }, '← Back to documents')),
    ),
  )
})

start(document.getElementById('app')!)
