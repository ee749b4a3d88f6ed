import { Editor } from '@tiptap/core'
import StarterKit from '@tiptap/starter-kit'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCursor from '@tiptap/extension-collaboration-cursor'
import Underline from '@tiptap/extension-underline'
import Link from '@tiptap/extension-link'
import TaskList from '@tiptap/extension-task-list'
import TaskItem from '@tiptap/extension-task-item'
import Table from '@tiptap/extension-table'
import TableRow from '@tiptap/extension-table-row'
import TableHeader from '@tiptap/extension-table-header'
import TableCell from '@tiptap/extension-table-cell'
import Image from '@tiptap/extension-image'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

import { api, ApiError, type DocumentInfo, type Member, type Role, type User } from '../api'
import { clear, h } from '../dom'
import type { Cleanup } from '../router'
import { displayName, errorView, header, requireUser, safeColor } from './common'
import { buildToolbar } from '../toolbar'
import { reconnectDelay } from '../backoff'
import { avatar } from '../avatar'

type Status = 'connecting' | 'connected' | 'synced' | 'disconnected'

/** Close codes sent by the server that mean "do not reconnect". */
const FATAL_CLOSE: Record<number, string> = {
  4400: 'The server rejected a malformed message. Reload the page to reconnect.',
  4401: 'You are not signed in (or your session has expired).',
  4403: 'You do not have access to this document.',
  4404: 'This document does not exist (it may have been deleted).',
  1009: 'A change was too large for the server to accept. Reload the page; edits that were not saved are lost.',
  4413: 'A change was too large for the server to accept. Reload the page; edits that were not saved are lost.',
}

/** Close codes that mean "try again later": show a transient banner and reconnect with backoff. */
const TRANSIENT_CLOSE: Record<number, { msg: string; minAttempt: number }> = {
  // Server at capacity: start further up the backoff curve so a busy server is not hammered.
  4503: { msg: 'Server busy, retrying…', minAttempt: 3 },
  4500: { msg: 'Server error, retrying…', minAttempt: 0 },
}

export { reconnectDelay }

export function wsBase(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/docs`
}

export async function docPage(root: HTMLElement, params: Record<string, string>): Promise<void | Cleanup> {
  const docId = params.id
  let user: User | null = null
  let info: DocumentInfo
  try {
    user = await requireUser()
    if (!user) return
    info = await api.getDocument(docId)
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 404)) {
      const msg = e.status === 404 ? FATAL_CLOSE[4404] : FATAL_CLOSE[4403]
      if (user) root.append(header(user))
      root.append(
        h(
          'main',
          { class: 'container' },
          h('div', { id: 'banner', class: 'banner banner-error', role: 'alert' }, msg),
          h('p', {}, h('a', { href: '/', 'data-link': true }, '← Back to documents')),
        ),
      )
      return
    }
    errorView(root, e)
    return
  }
  const me = user
  const readOnly = info.role === 'viewer'
  const isOwner = info.role === 'owner'
  document.title = `${info.title || 'Untitled document'} · Collab`

  // ---------- static layout ----------
  const title = h(
    'h1',
    {
      id: 'doc-title',
      class: 'doc-title',
      contenteditable: readOnly ? null : 'plaintext-only',
      spellcheck: 'false',
      title: readOnly ? null : 'Click to rename',
    },
    info.title || 'Untitled document',
  )
  const status = h('span', { id: 'status', class: 'status', 'data-status': 'connecting', 'aria-live': 'polite' }, 'connecting')
  const roleBadge = h('span', { class: `role role-${info.role}` }, info.role)
  const readOnlyBadge = readOnly ? h('span', { id: 'readonly', class: 'badge readonly' }, 'read-only') : null
  const banners = h('div', { id: 'banners' })
  const error = h('p', { id: 'error', class: 'error', role: 'alert', hidden: true })
  const editorEl = h('div', { id: 'editor', class: readOnly ? 'editor readonly' : 'editor' })
  const peers = h('ul', { id: 'peers', class: 'peers' })
  // The same people as a compact avatar stack next to the title.
  const peerStack = h('div', { id: 'doc-avatars', class: 'avatar-stack', role: 'group', 'aria-label': 'People here now' })
  const sidebar = h(
    'aside',
    { class: 'sidebar' },
    h('section', { class: 'card' }, h('h2', {}, 'Here now'), peers),
  )

  const showError = (msg: string) => {
    error.textContent = msg
    error.hidden = false
    window.setTimeout(() => {
      if (error.textContent === msg) error.hidden = true
    }, 8000)
  }
  const apiErr = (e: unknown) => showError(e instanceof ApiError ? e.message : String(e))

  if (readOnly) {
    banners.append(
      h('div', { class: 'banner banner-info', 'data-kind': 'readonly' }, 'You have read-only access to this document.'),
    )
  }

  // ---------- title rename ----------
  if (!readOnly) {
    let saved = info.title
    title.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault()
        title.blur()
      } else if (ev.key === 'Escape') {
        title.textContent = saved
        title.blur()
      }
    })
    title.addEventListener('blur', async () => {
      const next = (title.textContent ?? '').replace(/\s+/g, ' ').trim()
      if (!next) {
        title.textContent = saved
        return
      }
      if (next === saved) return
      try {
        const updated = await api.renameDocument(docId, next)
        saved = updated?.title ?? next
        title.textContent = saved
        document.title = `${saved} · Collab`
      } catch (e) {
        title.textContent = saved
        apiErr(e)
      }
    })
  }

  // ---------- collaboration ----------
  const ydoc = new Y.Doc()
  const provider = new WebsocketProvider(wsBase(), docId, ydoc, {
    connect: false,
    // Always go through the server (which enforces permissions), never tab-to-tab.
    disableBc: true,
  })

  let wsStatus: Status = 'connecting'
  let fatal: string | null = null
  let destroyed = false
  const renderStatus = () => {
    const s: Status = fatal ? 'disconnected' : wsStatus === 'connected' && provider.synced ? 'synced' : wsStatus
    status.textContent = s
    status.dataset.status = s
  }
  provider.on('status', ({ status: s }: { status: string }) => {
    wsStatus = s === 'connected' ? 'connected' : s === 'disconnected' ? 'disconnected' : 'connecting'
    renderStatus()
  })

  // ---------- reconnection (jittered backoff) ----------
  // y-websocket 2.1.0 reconnects on its own with un-jittered exponential backoff
  // (closeWebsocketConnection -> setTimeout(setupWS, ...), and setupWS only opens a
  // socket if provider.shouldConnect is true and provider.ws is null). We take that
  // over: on a non-fatal close we clear shouldConnect inside the synchronous
  // 'connection-close' emit, so the provider's pending timer is a no-op, and we call
  // provider.connect() (which sets shouldConnect again) from our own jittered timer.
  // The Y.Doc is kept throughout, so offline edits are sent after the next sync.
  let attempt = 0
  let retryTimer: number | undefined
  let transientBanner: HTMLElement | null = null

  const clearTransient = () => {
    transientBanner?.remove()
    transientBanner = null
  }
  const showTransient = (code: number, msg: string) => {
    clearTransient()
    transientBanner = h(
      'div',
      { id: 'banner', class: 'banner banner-warning', role: 'status', 'data-code': code, 'data-kind': 'transient' },
      msg,
    )
    banners.append(transientBanner)
  }
  const cancelRetry = () => {
    if (retryTimer !== undefined) window.clearTimeout(retryTimer)
    retryTimer = undefined
  }
  const scheduleReconnect = () => {
    cancelRetry()
    const delay = reconnectDelay(attempt)
    attempt++
    retryTimer = window.setTimeout(() => {
      retryTimer = undefined
      if (fatal || destroyed) return
      try {
        provider.connect()
      } catch {
        // e.g. the WebSocket constructor threw: keep y-websocket's own loop off and retry later.
        provider.shouldConnect = false
        scheduleReconnect()
      }
    }, delay)
  }

  provider.on('sync', (isSynced: boolean) => {
    if (isSynced) {
      attempt = 0
      clearTransient()
    }
    renderStatus()
  })

  const showFatal = (code: number, msg: string) => {
    clear(banners)
    const banner = h('div', { id: 'banner', class: 'banner banner-error', role: 'alert', 'data-code': code }, msg)
    if (code === 4401) {
      banner.append(' ', h('a', { href: `/login?next=${encodeURIComponent(location.pathname)}`, 'data-link': true }, 'Sign in again'))
    } else if (code === 4400 || code === 1009 || code === 4413) {
      banner.append(' ', h('button', { type: 'button', class: 'link-button', onclick: () => location.reload() }, 'Reload'))
    }
    banners.append(banner)
  }

  provider.on('connection-close', (event: CloseEvent | null) => {
    // shouldConnect is already false when we (or provider.destroy()) disconnected on purpose.
    if (fatal || destroyed || !provider.shouldConnect) return
    // Either way, y-websocket must not reconnect by itself (setupWS checks this flag).
    provider.shouldConnect = false
    const code = event?.code ?? 0 // null event = provider's 30 s "no message" timeout
    const msg = FATAL_CLOSE[code]
    if (msg) {
      fatal = msg
      cancelRetry()
      editor.setEditable(false)
      showFatal(code, msg)
      renderStatus()
      return
    }
    const transient = TRANSIENT_CLOSE[code]
    if (transient) {
      attempt = Math.max(attempt, transient.minAttempt)
      showTransient(code, transient.msg)
    }
    wsStatus = 'disconnected'
    renderStatus()
    scheduleReconnect()
  })

  const localUser = { name: displayName(me), color: safeColor(me.color, '#1e88e5') }

  const editor = new Editor({
    element: editorEl,
    editable: !readOnly,
    extensions: [
      // Undo/redo come from the Collaboration extension (yjs UndoManager).
      StarterKit.configure({ history: false }),
      Underline,
      Link.configure({ openOnClick: readOnly, autolink: true, defaultProtocol: 'https' }),
      TaskList,
      TaskItem.configure({ nested: true }),
      Table.configure({ resizable: false }),
      TableRow,
      TableHeader,
      TableCell,
      Image,
      Collaboration.configure({ document: ydoc }),
      CollaborationCursor.configure({
        provider,
        user: localUser,
        render: (u: { name?: string; color?: string }) => {
          const color = safeColor(u.color)
          const caret = h('span', { class: 'collaboration-cursor__caret', style: `border-color: ${color}` })
          caret.append(h('div', { class: 'collaboration-cursor__label', style: `background-color: ${color}` }, u.name ?? '?'))
          return caret
        },
      }),
    ],
    editorProps: {
      attributes: { class: 'prose', 'aria-label': 'Document editor', spellcheck: 'true' },
    },
  })

  // ---------- presence ----------
  const renderPeers = () => {
    clear(peers)
    const states = provider.awareness.getStates()
    const items: { id: number; name: string; color: string }[] = []
    states.forEach((state, clientId) => {
      if (clientId === ydoc.clientID) return
      const u = (state as { user?: { name?: string; username?: string; color?: string } }).user
      if (!u) return
      items.push({ id: clientId, name: u.name || u.username || 'Anonymous', color: safeColor(u.color) })
    })
    items.sort((a, b) => a.name.localeCompare(b.name))
    for (const p of items) {
      peers.append(
        h(
          'li',
          { class: 'peer', 'data-client-id': p.id },
          avatar(p.name, { color: p.color, size: 'sm', label: '' }),
          h('span', { class: 'peer-name' }, p.name),
        ),
      )
    }
    // One avatar per person (a person with two tabs has two awareness clients).
    const seen = new Map<string, { name: string; color: string }>()
    for (const p of items) if (!seen.has(p.name)) seen.set(p.name, p)
    const people = [...seen.values()]
    const shown = people.slice(0, 5)
    peerStack.replaceChildren(
      ...shown.map((p) => avatar(p.name, { color: p.color, size: 'md', label: p.name })),
      ...(people.length > shown.length ? [h('span', { class: 'avatar avatar-md avatar-more', title: people.slice(5).map((p) => p.name).join(', ') }, `+${people.length - shown.length}`)] : []),
    )
    peerStack.hidden = people.length === 0
  }
  provider.awareness.on('change', renderPeers)

  // ---------- toolbar ----------
  const toolbar = readOnly ? null : buildToolbar(editor)

  // ---------- share panel (owners) ----------
  if (isOwner) sidebar.append(sharePanel(docId, me, apiErr, () => destroyed))

  root.append(
    header(me),
    h(
      'main',
      { class: 'doc-layout' },
      h(
        'div',
        { class: 'doc-main' },
        h('div', { class: 'doc-head' }, title, roleBadge, readOnlyBadge, h('span', { class: 'spacer' }), peerStack, status),
        banners,
        error,
        toolbar?.element ?? null,
        editorEl,
      ),
      sidebar,
    ),
  )

  provider.connect()
  renderStatus()
  renderPeers()

  // Handy for debugging and end-to-end tests.
  ;(window as unknown as { __collab?: unknown }).__collab = { editor, provider, ydoc, docId }

  return () => {
    destroyed = true
    cancelRetry()
    toolbar?.destroy()
    provider.awareness.off('change', renderPeers)
    provider.destroy()
    editor.destroy()
    ydoc.destroy()
    const w = window as unknown as { __collab?: { ydoc?: Y.Doc } }
    if (w.__collab?.ydoc === ydoc) delete w.__collab
  }
}

function sharePanel(docId: string, me: User, onError: (e: unknown) => void, isDestroyed: () => boolean): HTMLElement {
  const list = h('ul', { id: 'members', class: 'members' })
  const username = h('input', {
    id: 'share-username', type: 'text', placeholder: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', 'aria-label': 'Username to share with',
  })
  const role = h(
    'select',
    { id: 'share-role', 'aria-label': 'Role' },
    h('option', { value: 'editor' }, 'can edit'),
    h('option', { value: 'viewer' }, 'can view'),
  )
  const add = h('button', { id: 'share-add', type: 'submit', class: 'primary' }, 'Share')
  const form = h('form', { class: 'share-form' }, username, role, add)

  const refresh = async () => {
    try {
      const members = await api.listMembers(docId)
      if (isDestroyed()) return
      renderMembers(members)
    } catch (e) {
      onError(e)
    }
  }

  const renderMembers = (members: Member[]) => {
    clear(list)
    for (const m of members) {
      const remove =
        m.role === 'owner' || m.username === me.username
          ? null
          : h('button', { type: 'button', class: 'link-button remove', title: `Remove ${m.username}` }, 'remove')
      remove?.addEventListener('click', async () => {
        remove.disabled = true
        try {
          await api.removeMember(docId, m.username)
        } catch (e) {
          onError(e)
        }
        await refresh()
      })
      list.append(
        h(
          'li',
          { 'data-username': m.username },
          h('span', { class: 'member-name' }, m.username),
          h('span', { class: `role role-${m.role}` }, m.role),
          remove,
        ),
      )
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const u = username.value.trim()
    if (!u) return
    add.disabled = true
    try {
      await api.addMember(docId, u, role.value as Role)
      username.value = ''
      await refresh()
    } catch (e) {
      onError(e)
    } finally {
      add.disabled = false
    }
  })

  void refresh()
  return h('section', { id: 'share', class: 'card' }, h('h2', {}, 'Share'), list, form)
}
