import { useEffect, useState } from 'react'
import { Link, useParams } from 'react-router'

import { displayName, useCurrentUser } from '../account/queries'
import { ApiError } from '../api/errors'
import { safeColor } from '../shared/color'
import { FormError } from '../shared/FormError'
import { useDocument, type DocumentInfo } from './api'
import { FATAL_CLOSE, type Banner } from './editor/closeCodes'
import { DocumentEditor } from './editor/DocumentEditor'
import { useCollaboration } from './editor/useCollaboration'
import { usePeers } from './editor/usePeers'
import { PeerList, PeopleStack } from './PeopleHere'
import { SharePanel } from './SharePanel'
import { TitleEditor } from './TitleEditor'

function ConnectionBanner({ banner }: { banner: Banner }) {
  if (banner.kind === 'transient') {
    return (
      <div
        id="banner"
        className="banner banner-warning"
        role="status"
        data-code={banner.code}
        data-kind="transient"
      >
        {banner.message}
      </div>
    )
  }
  return (
    <div id="banner" className="banner banner-error" role="alert" data-code={banner.code}>
      {banner.message}{' '}
      {banner.code === 4401 && (
        <Link to={`/login?next=${encodeURIComponent(location.pathname)}`}>Sign in again</Link>
      )}
      {[4400, 1009, 4413].includes(banner.code) && (
        <button type="button" className="link-button" onClick={() => location.reload()}>
          Reload
        </button>
      )}
    </div>
  )
}

function Workspace({ info }: { info: DocumentInfo }) {
  const me = useCurrentUser()
  const [connection, { status, banner }] = useCollaboration(info.id)
  const peers = usePeers(connection)
  const [error, setError] = useState<unknown>(null)
  const readOnly = info.role === 'viewer'
  useEffect(() => {
    document.title = `${info.title || 'Untitled document'} · Collab`
  }, [info.title])

  const cursorUser = { name: displayName(me), color: safeColor(me.color) }
  return (
    <main className="doc-layout" id="main">
      <div className="doc-main">
        <div className="doc-head">
          <TitleEditor documentId={info.id} title={info.title} editable={!readOnly} onError={setError} />
          <span className={`role role-${info.role}`}>{info.role}</span>
          {readOnly && (
            <span id="readonly" className="badge readonly">
              read-only
            </span>
          )}
          <span className="spacer" />
          <PeopleStack peers={peers} />
          <span id="status" className="status" data-status={status} aria-live="polite">
            {status}
          </span>
        </div>
        <div id="banners">
          {readOnly && (
            <div className="banner banner-info" data-kind="readonly">
              You have read-only access to this document.
            </div>
          )}
          {banner && <ConnectionBanner banner={banner} />}
        </div>
        <FormError id="error" error={error} />
        {connection && (
          <DocumentEditor
            connection={connection}
            user={cursorUser}
            readOnly={readOnly}
            live={banner?.kind !== 'fatal'}
          />
        )}
      </div>
      <aside className="sidebar" aria-label="Document details">
        <PeerList peers={peers} />
        <SharePanel documentId={info.id} manage={info.role === 'owner'} me={me.username} />
      </aside>
    </main>
  )
}

export default function DocumentPage() {
  const { documentId = '' } = useParams()
  const document = useDocument(documentId)
  if (document.isPending) {
    return (
      <p className="loading muted" role="status">
        Loading…
      </p>
    )
  }
  // A failed background refetch keeps the data: the open editor must not be torn down for it.
  if (document.isError && document.data === undefined) {
    const status = document.error instanceof ApiError ? document.error.status : 0
    const message =
      status === 404 || status === 422 ? FATAL_CLOSE[4404] : status === 403 ? FATAL_CLOSE[4403] : null
    return (
      <main className="container" id="main">
        {message ? (
          <div id="banner" className="banner banner-error" role="alert">
            {message}
          </div>
        ) : (
          <FormError id="error" error={document.error} />
        )}
        <p>
          <Link to="/">← Back to documents</Link>
        </p>
      </main>
    )
  }
  return <Workspace key={document.data.id} info={document.data} />
}
