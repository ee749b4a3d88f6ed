import { api, ApiError, type DocumentInfo } from '../api'
import { clear, formatDate, h } from '../dom'
import { navigate } from '../router'
import { header, requireUserOrShowError } from './common'

export async function homePage(root: HTMLElement): Promise<void> {
  const user = await requireUserOrShowError(root)
  if (!user) return
  document.title = 'Documents · Collab'

  const error = h('p', { id: 'error', class: 'error', role: 'alert', hidden: true })
  const showError = (msg: string) => {
    error.textContent = msg
    error.hidden = false
  }
  const title = h('input', {
    id: 'new-title', name: 'title', type: 'text', placeholder: 'Untitled document', maxlength: 200,
    'aria-label': 'New document title',
  })
  const create = h('button', { id: 'create', type: 'submit', class: 'primary' }, 'New document')
  const form = h('form', { class: 'create-form' }, title, create)
  const list = h('ul', { id: 'doc-list', class: 'doc-list' })

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    error.hidden = true
    create.disabled = true
    try {
      const doc = await api.createDocument(title.value.trim() || 'Untitled document')
      navigate(`/docs/${encodeURIComponent(doc.id)}`)
    } catch (e) {
      showError(e instanceof ApiError ? e.message : String(e))
    } finally {
      create.disabled = false
    }
  })

  root.append(
    header(user),
    h('main', { class: 'container' }, h('h1', {}, 'Documents'), form, error, list),
  )

  const renderList = (docs: DocumentInfo[]) => {
    clear(list)
    if (!docs.length) {
      list.append(h('li', { class: 'empty muted' }, 'No documents yet — create one above.'))
      return
    }
    const sorted = [...docs].sort((a, b) => String(b.updated_at ?? '').localeCompare(String(a.updated_at ?? '')))
    for (const d of sorted) {
      list.append(
        h(
          'li',
          { class: 'doc-item', 'data-doc-id': d.id },
          h('a', { class: 'doc-link', href: `/docs/${encodeURIComponent(d.id)}`, 'data-link': true }, d.title || 'Untitled document'),
          h('span', { class: `role role-${d.role}` }, d.role),
          h('span', { class: 'muted date' }, d.updated_at ? `edited ${formatDate(d.updated_at)}` : ''),
        ),
      )
    }
  }

  try {
    renderList(await api.listDocuments())
  } catch (e) {
    showError(e instanceof ApiError ? e.message : String(e))
  }
}
