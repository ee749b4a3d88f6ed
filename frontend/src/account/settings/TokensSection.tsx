import { useState, type SyntheticEvent } from 'react'

import { ConfirmDialog } from '../../shared/Dialog'
import { FormError } from '../../shared/FormError'
import { formatDate } from '../../shared/format'
import {
  TOKEN_NAME_MAX,
  useCreateToken,
  useRevokeToken,
  useTokens,
  type CreatedToken,
  type TokenInfo,
} from './queries'

const EXPIRY_CHOICES = [
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: 'One year' },
  { days: 0, label: 'Never' },
]

function NewTokenForm({ onCreated }: { onCreated: (token: CreatedToken) => void }) {
  const create = useCreateToken()
  const [name, setName] = useState('')
  const [days, setDays] = useState(90)
  const submit = (event: SyntheticEvent) => {
    event.preventDefault()
    create.mutate(
      { name: name.trim(), expires_in_days: days || null },
      {
        onSuccess: (token) => {
          setName('')
          onCreated(token)
        },
      },
    )
  }
  return (
    <form className="stack-form" onSubmit={submit}>
      <label htmlFor="token-name">Name (what the token is for)</label>
      <input
        id="token-name"
        required
        maxLength={TOKEN_NAME_MAX}
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <label htmlFor="token-expiry">Expires</label>
      <select id="token-expiry" value={days} onChange={(e) => setDays(Number(e.target.value))}>
        {EXPIRY_CHOICES.map((choice) => (
          <option key={choice.days} value={choice.days}>
            {choice.label}
          </option>
        ))}
      </select>
      <FormError id="token-error" error={create.error} />
      <button type="submit" id="token-create" className="primary" disabled={create.isPending || !name.trim()}>
        Create token
      </button>
    </form>
  )
}

export function TokensSection() {
  const tokens = useTokens()
  const revoke = useRevokeToken()
  const [created, setCreated] = useState<CreatedToken | null>(null)
  const [copied, setCopied] = useState(false)
  const [revoking, setRevoking] = useState<TokenInfo | null>(null)
  return (
    <>
      <h1>API tokens</h1>
      <section className="card" aria-labelledby="new-token-title">
        <h2 id="new-token-title">New token</h2>
        <p className="muted small">
          A token lets a script or another Yjs client act as you (<code>Authorization: Bearer …</code> or{' '}
          <code>?token=</code> on websockets). Only a digest is stored: the value is shown once.
        </p>
        <NewTokenForm
          onCreated={(token) => {
            setCopied(false)
            setCreated(token)
          }}
        />
        {created && (
          <div className="form-success" id="token-created">
            {/* Announced without the value: a screen reader need not read the secret aloud. */}
            <p role="status">Token “{created.name}” created. Copy it now; it will not be shown again:</p>
            <p className="secret" id="token-value">
              {created.token}
            </p>
            <button
              type="button"
              id="token-copy"
              onClick={() => void navigator.clipboard.writeText(created.token).then(() => setCopied(true))}
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">Your tokens</h2>
        <FormError error={tokens.error ?? revoke.error} />
        {tokens.data?.length === 0 && <p className="muted">No tokens.</p>}
        <ul className="row-list" id="token-list">
          {(tokens.data ?? []).map((token) => (
            <li key={token.id} data-token-id={token.id}>
              <div className="row-main">
                <div className="row-title">{token.name || 'unnamed'}</div>
                <div className="small muted">
                  created {formatDate(token.created_at)}
                  {' · '}
                  {token.last_used_at ? `last used ${formatDate(token.last_used_at)}` : 'never used'}
                  {' · '}
                  {token.expires_at ? `expires ${formatDate(token.expires_at)}` : 'does not expire'}
                </div>
              </div>
              <button
                type="button"
                className="danger"
                aria-label={`Revoke ${token.name || 'unnamed token'}`}
                onClick={() => setRevoking(token)}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      </section>
      <ConfirmDialog
        id="revoke-dialog"
        open={revoking !== null}
        title="Revoke this token?"
        message={<p>Programs using “{revoking?.name}” stop working at once, open connections included.</p>}
        confirmLabel="Revoke"
        danger
        onClose={() => setRevoking(null)}
        onConfirm={() => {
          if (revoking) revoke.mutate(revoking.id)
          setRevoking(null)
        }}
      />
    </>
  )
}
