import type { Message } from '../api'
import { useMessageContext } from './context'

/** The reaction chips under a message (.reaction[data-emoji][aria-pressed]; a click toggles). */
export function Reactions({ m }: { m: Message }) {
  const { me, canPost, react } = useMessageContext()
  const list = (m.reactions ?? []).filter((r) => r.count > 0)
  if (!list.length || m.deleted) return null
  return (
    <div className="msg-reactions" role="group" aria-label="Reactions">
      {list.map((r) => {
        const mine = r.users.includes(me)
        const who = r.users.length ? r.users.join(', ') : String(r.count)
        return (
          <button
            key={r.emoji}
            type="button"
            className={mine ? 'reaction mine' : 'reaction'}
            data-emoji={r.emoji}
            aria-pressed={mine}
            title={`${who} reacted with ${r.emoji}`}
            aria-label={`${r.emoji} ${String(r.count)}${mine ? ', yours: remove it' : ', react too'}`}
            disabled={!canPost}
            onClick={() => react(m, r.emoji, !mine)}
          >
            <span className="reaction-emoji">{r.emoji}</span>
            <span className="reaction-count">{r.count}</span>
          </button>
        )
      })}
    </div>
  )
}
