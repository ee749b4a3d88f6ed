import { useEffect, useRef, useState } from 'react'

import { DOCUMENT_TITLE_MAX, useRenameDocument } from './api'

/** The document's title; editors click it (or press Enter on it) to rename in place. */
export function TitleEditor({
  documentId,
  title,
  editable,
  onError,
}: {
  documentId: string
  title: string
  editable: boolean
  onError: (error: unknown) => void
}) {
  const rename = useRenameDocument(documentId)
  const [draft, setDraft] = useState<string | null>(null)
  const button = useRef<HTMLButtonElement>(null)
  // Enter and Escape end the edit from the keyboard: the focus goes back to the title, not to <body>.
  const refocus = useRef(false)
  useEffect(() => {
    if (draft === null && refocus.current) {
      refocus.current = false
      button.current?.focus()
    }
  }, [draft])
  const shown = title || 'Untitled document'

  const save = () => {
    if (draft === null) return
    const next = draft.replace(/\s+/g, ' ').trim()
    setDraft(null)
    if (next && next !== title) rename.mutate(next, { onError })
  }

  if (!editable) {
    return (
      <h1 id="doc-title" className="doc-title">
        {shown}
      </h1>
    )
  }
  return (
    <h1 id="doc-title" className="doc-title">
      {draft === null ? (
        <button
          ref={button}
          type="button"
          className="title-button"
          title="Click to rename"
          aria-label={`${shown} (rename)`}
          onClick={() => setDraft(title)}
        >
          {shown}
        </button>
      ) : (
        <input
          id="doc-title-input"
          className="doc-title-input"
          aria-label="Document title"
          maxLength={DOCUMENT_TITLE_MAX}
          autoFocus
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onBlur={save}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault()
              refocus.current = true
              save()
            } else if (e.key === 'Escape') {
              refocus.current = true
              setDraft(null)
            }
          }}
        />
      )}
    </h1>
  )
}
