import { useEffect, useState, type SyntheticEvent } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'

import { ConfirmDialog } from '../shared/Dialog'
import { FormError } from '../shared/FormError'
import { formatDate } from '../shared/format'
import {
  DOCUMENT_TITLE_MAX,
  useCreateDocument,
  useDeleteDocument,
  useDocuments,
  type DocumentInfo,
} from './api'
import { arrangeDocuments, type DocumentSort } from './list'

function CreateDocumentForm() {
  const navigate = useNavigate()
  const create = useCreateDocument()
  const [title, setTitle] = useState('')
  const submit = (event: SyntheticEvent) => {
    event.preventDefault()
    create.mutate(title.trim() || 'Untitled document', {
      onSuccess: (doc) => void navigate(`/docs/${encodeURIComponent(doc.id)}`),
    })
  }
  return (
    <form className="create-form-block" onSubmit={submit}>
      <div className="create-form">
        <input
          id="new-title"
          name="title"
          type="text"
          placeholder="Untitled document"
          maxLength={DOCUMENT_TITLE_MAX}
          aria-label="New document title"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
        />
        <button id="create" type="submit" className="primary" disabled={create.isPending}>
          New document
        </button>
      </div>
      <FormError id="create-error" error={create.error} />
    </form>
  )
}

function DocumentRow({ doc, onDelete }: { doc: DocumentInfo; onDelete: (doc: DocumentInfo) => void }) {
  const title = doc.title || 'Untitled document'
  return (
    <li className="doc-item" data-doc-id={doc.id}>
      <Link className="doc-link" to={`/docs/${encodeURIComponent(doc.id)}`}>
        {title}
      </Link>
      <span className={`role role-${doc.role}`}>{doc.role}</span>
      {doc.role !== 'owner' && doc.owner && <span className="doc-owner">by {doc.owner}</span>}
      <span className="date">edited {formatDate(doc.updated_at)}</span>
      {doc.role === 'owner' && (
        <button
          type="button"
          className="link-button delete-doc"
          aria-label={`Delete ${title}`}
          onClick={() => onDelete(doc)}
        >
          Delete
        </button>
      )}
    </li>
  )
}

export function DocumentsPage() {
  const documents = useDocuments()
  const remove = useDeleteDocument()
  const [params, setParams] = useSearchParams()
  const query = params.get('q') ?? ''
  const sort: DocumentSort = params.get('sort') === 'title' ? 'title' : 'recent'
  const [deleting, setDeleting] = useState<DocumentInfo | null>(null)
  useEffect(() => {
    document.title = 'Documents · Collab'
  }, [])

  const update = (key: string, value: string, fallback: string) => {
    const next = new URLSearchParams(params)
    if (value && value !== fallback) next.set(key, value)
    else next.delete(key)
    setParams(next, { replace: true })
  }
  const shown = arrangeDocuments(documents.data ?? [], query, sort)

  return (
    <main className="container" id="main">
      <h1>Documents</h1>
      <CreateDocumentForm />
      <div className="list-tools" role="search">
        <input
          id="doc-search"
          type="search"
          placeholder="Search by title"
          aria-label="Search documents by title"
          value={query}
          onChange={(e) => update('q', e.target.value, '')}
        />
        <label htmlFor="doc-sort" className="small muted">
          Sort
        </label>
        <select id="doc-sort" value={sort} onChange={(e) => update('sort', e.target.value, 'recent')}>
          <option value="recent">Recently edited</option>
          <option value="title">Title</option>
        </select>
      </div>
      <FormError id="error" error={documents.error ?? remove.error} />
      {documents.isPending ? (
        <p className="muted" role="status">
          Loading…
        </p>
      ) : (
        <ul id="doc-list" className="doc-list" aria-label="Your documents">
          {shown.length === 0 && (
            <li className="empty">
              {query ? `No document title contains “${query}”.` : 'No documents yet — create one above.'}
            </li>
          )}
          {shown.map((doc) => (
            <DocumentRow key={doc.id} doc={doc} onDelete={setDeleting} />
          ))}
        </ul>
      )}
      <ConfirmDialog
        id="delete-dialog"
        open={deleting !== null}
        title="Delete this document?"
        message={
          <p>“{deleting?.title}” will be deleted for everyone it is shared with. This cannot be undone.</p>
        }
        confirmLabel="Delete"
        danger
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) remove.mutate(deleting.id)
          setDeleting(null)
        }}
      />
    </main>
  )
}
