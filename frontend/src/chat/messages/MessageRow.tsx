// One message (.msg): confirmed, or my send on its way (pending, acked, failed). Both are this
// component under the same key, so confirming a send keeps its element (no flicker, no lost focus).
import { memo, useState } from 'react'

import type { Message } from '../api'
import type { EditState } from '../room/Edits'
import { fullDate, timeLabel } from '../lib/format'
import { PersonAvatar, useDisplayName } from '../lib/people'
import { useStore } from '../lib/store'
import { Markup } from '../markup/Markup'
import { useMessageContext } from './context'
import { EditBox } from './EditBox'
import { MessageToolbar } from './MessageToolbar'
import type { Pending } from './MessageStore'
import { Reactions } from './Reactions'

interface Props {
  message?: Message
  pending?: Pending
  cont: boolean
  replyCount?: number
}

export const MessageRow = memo(function MessageRow({ message, pending, cont, replyCount = 0 }: Props) {
  const { controller, me, where } = useMessageContext()
  const edit = useStore(controller.edits.state)
  const [toolbar, setToolbar] = useState(false)
  if (message) {
    const m = message
    const author = m.author ?? 'deleted user'
    const editing = edit?.id === m.id && edit.where === where ? edit : null
    const classes = [
      'msg',
      m.deleted && 'msg-deleted',
      m.author === me && 'msg-own',
      cont && 'msg-cont',
      editing && 'editing',
      where === 'parent' && 'thread-root',
    ]
    return (
      <article
        className={classes.filter(Boolean).join(' ')}
        data-id={m.id}
        data-seq={m.seq}
        data-version={m.version_seq}
        data-author={author}
        data-client-id={m.client_id}
        data-state="sent"
        data-parent-id={m.parent_id ?? undefined}
        aria-label={`${author}, ${timeLabel(m.created_at)}`}
        tabIndex={-1}
        onMouseEnter={() => setToolbar(true)}
        onFocus={() => setToolbar(true)}
      >
        <Confirmed m={m} editing={editing} replyCount={replyCount} />
        {toolbar && !m.deleted && !editing && <MessageToolbar m={m} />}
      </article>
    )
  }
  if (!pending) return null
  const p = pending
  return (
    <article
      className={cont ? 'msg msg-own msg-pending msg-cont' : 'msg msg-own msg-pending'}
      data-client-id={p.clientId}
      data-state={p.state === 'failed' ? 'failed' : p.state === 'acked' ? 'acked' : 'pending'}
      data-seq={p.state === 'acked' ? p.seq : undefined}
      data-author={me}
      aria-label={`${me}, ${p.state === 'failed' ? 'not sent' : 'sending'}`}
      tabIndex={-1}
    >
      <PendingSend p={p} />
    </article>
  )
})

function Meta({
  author,
  createdAt,
  editedAt,
  extra,
}: {
  author: string | null
  createdAt: string
  editedAt?: string | null
  extra?: string
}) {
  const name = useDisplayName(author)
  return (
    <div className="msg-meta">
      <span className="msg-author">{name}</span>
      <time className="msg-time" dateTime={createdAt} title={fullDate(createdAt)}>
        {timeLabel(createdAt)}
      </time>
      {editedAt && (
        <span className="msg-edited" title={`Edited ${fullDate(editedAt)}`}>
          (edited)
        </span>
      )}
      {extra && <span className="msg-sending muted">{extra}</span>}
    </div>
  )
}

function Gutter({ author, createdAt }: { author: string | null; createdAt: string }) {
  return (
    <div className="msg-gutter">
      <PersonAvatar username={author} />
      <time className="msg-time-short" dateTime={createdAt} aria-hidden="true">
        {timeLabel(createdAt)}
      </time>
    </div>
  )
}

function Confirmed({
  m,
  editing,
  replyCount,
}: {
  m: Message
  editing: EditState | null
  replyCount: number
}) {
  const { controller, me, where } = useMessageContext()
  return (
    <>
      <Gutter author={m.author} createdAt={m.created_at} />
      <div className="msg-content">
        <Meta author={m.author} createdAt={m.created_at} editedAt={m.deleted ? null : m.edited_at} />
        {editing ? (
          <EditBox m={m} edit={editing} controller={controller} />
        ) : (
          <div className="msg-body">
            {m.deleted ? (
              <span className="muted deleted-note">This message was deleted.</span>
            ) : (
              <Markup body={m.body} me={me} />
            )}
          </div>
        )}
        <Reactions m={m} />
        {where === 'main' && replyCount > 0 && (
          <div className="msg-thread">
            <button
              type="button"
              className="thread-link"
              data-thread-link={m.id}
              aria-label={`${String(replyCount)} ${replyCount === 1 ? 'reply' : 'replies'}, open thread`}
              onClick={() => controller.togglePanel({ kind: 'thread', parentId: m.id }, true)}
            >
              {replyCount} {replyCount === 1 ? 'reply' : 'replies'}
            </button>
          </div>
        )}
      </div>
    </>
  )
}

function PendingSend({ p }: { p: Pending }) {
  const { controller, me } = useMessageContext()
  return (
    <>
      <Gutter author={me} createdAt={p.createdAt} />
      <div className="msg-content">
        <Meta author={me} createdAt={p.createdAt} extra={p.state === 'sending' ? 'sending…' : undefined} />
        <div className="msg-body">
          <Markup body={p.body} me={me} />
        </div>
        {p.state === 'failed' && (
          <div className="msg-failed" role="alert">
            Not sent{p.error ? `: ${p.error}` : ''}.{' '}
            <button
              type="button"
              className="link-button"
              data-action="retry"
              onClick={() => controller.retry(p.clientId)}
            >
              Retry
            </button>
            {' · '}
            <button
              type="button"
              className="link-button"
              data-action="discard"
              onClick={() => controller.discard(p.clientId)}
            >
              Discard
            </button>
          </div>
        )}
      </div>
    </>
  )
}
