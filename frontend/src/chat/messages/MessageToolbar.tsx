// The hover toolbar of a message (.msg-actions): quick reactions, more reactions, reply in
// thread, edit, delete. Built on the first hover or focus of its message.
import { useCallback, useState } from 'react'

import type { Message } from '../api'
import { Icon } from '../lib/Icon'
import { useMessageContext } from './context'
import { EmojiPicker, QUICK_REACTIONS } from './EmojiPicker'

export function MessageToolbar({ m }: { m: Message }) {
  const { controller, me, where, canPost, isOwner, reactions, react } = useMessageContext()
  const [picking, setPicking] = useState(false)
  const closePicker = useCallback(() => setPicking(false), [])
  const mine = (emoji: string) => m.reactions?.some((r) => r.emoji === emoji && r.users.includes(me)) ?? false
  const canDelete = !m.deleted && (m.author === me || isOwner) && canPost
  return (
    <>
      <div className="msg-actions" role="toolbar" aria-label="Message actions">
        {reactions && canPost && (
          <>
            {QUICK_REACTIONS.slice(0, 3).map((e) => (
              <button
                key={e}
                type="button"
                className="msg-action"
                data-action={`react:${e}`}
                title={mine(e) ? `Remove ${e}` : `React with ${e}`}
                aria-label={mine(e) ? `Remove ${e}` : `React with ${e}`}
                onClick={() => react(m, e, !mine(e))}
              >
                {e}
              </button>
            ))}
            <button
              type="button"
              className="msg-action"
              data-action="react-more"
              title="Add reaction"
              aria-label="Add reaction"
              aria-expanded={picking}
              onClick={() => setPicking((p) => !p)}
            >
              <Icon name="smile" />
            </button>
          </>
        )}
        {where === 'main' && canPost && (
          <button
            type="button"
            className="msg-action"
            data-action="reply"
            title="Reply in thread"
            aria-label="Reply in thread"
            onClick={() => controller.togglePanel({ kind: 'thread', parentId: m.id }, true)}
          >
            <Icon name="message" />
          </button>
        )}
        {m.author === me && canPost && where !== 'parent' && (
          <button
            type="button"
            className="msg-action"
            data-action="edit"
            title="Edit message"
            aria-label="Edit message"
            onClick={() => controller.edits.start(m, where === 'thread' ? 'thread' : 'main')}
          >
            <Icon name="edit" />
          </button>
        )}
        {canDelete && (
          <button
            type="button"
            className="msg-action"
            data-action="delete"
            title="Delete message"
            aria-label="Delete message"
            onClick={() => controller.deleting.set(m)}
          >
            <Icon name="trash" />
          </button>
        )}
      </div>
      {picking && <EmojiPicker onPick={(e) => react(m, e, !mine(e))} onClose={closePicker} />}
    </>
  )
}
