// Message search (GET /api/chat/search): results show the message's markup with the matched
// words highlighted, and link to /chat/<room>#seq-<n>.
import { useInfiniteQuery } from '@tanstack/react-query'
import { Link } from 'react-router'

import { Dialog } from '../../shared/Dialog'
import { FormError } from '../../shared/FormError'
import { chatApi, missing, roomLabel, type SearchResult } from '../api'
import { useChatShell } from '../ChatShell'
import { useRooms } from '../inbox/useInbox'
import { fullDate, timeLabel } from '../lib/format'
import { useDisplayName } from '../lib/people'
import { highlightPattern, Markup } from '../markup/Markup'
import { ambiguousIds, RoomName } from '../rooms/names'

export function SearchDialog({ q, onClose }: { q: string; onClose: () => void }) {
  const search = useInfiniteQuery({
    queryKey: ['chat', 'search', q],
    queryFn: ({ pageParam }) => chatApi.search(q, pageParam),
    initialPageParam: 0,
    getNextPageParam: (last, pages) =>
      last.has_more ? (last.next_offset ?? pages.reduce((n, p) => n + p.results.length, 0)) : undefined,
  })
  const results = search.data?.pages.flatMap((p) => p.results) ?? []
  return (
    <Dialog open title={`Results for “${q}”`} onClose={onClose} id="search-dialog" className="dialog-wide">
      <div className="dialog-form">
        <ul id="search-results" className="search-results" aria-busy={search.isPending} aria-live="polite">
          {search.isPending && <li className="muted">Searching…</li>}
          {search.data && !results.length && <li className="muted">No messages match.</li>}
          {results.map((r) => (
            <Result key={`${r.room_id}:${r.message.id}`} result={r} onOpen={onClose} />
          ))}
        </ul>
        {search.error && missing(search.error) ? (
          <p className="muted">Search is not available on this server yet.</p>
        ) : (
          <FormError error={search.error} />
        )}
        {search.hasNextPage && (
          <button
            type="button"
            id="search-more"
            disabled={search.isFetchingNextPage}
            onClick={() => void search.fetchNextPage()}
          >
            More results
          </button>
        )}
        <div className="dialog-actions">
          <button type="button" data-role="cancel" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </Dialog>
  )
}

function Result({ result: r, onOpen }: { result: SearchResult; onOpen: () => void }) {
  const { me } = useChatShell()
  const rooms = useRooms().data ?? []
  const room = rooms.find((x) => x.id === r.room_id)
  const label = room ? roomLabel(room, me) : r.room_name
  const ambiguous = room ? ambiguousIds(rooms, me).has(room.id) : false
  const author = useDisplayName(r.message.author)
  const highlight = highlightPattern(r.snippet.filter((s) => s.match).map((s) => s.text))
  const m = r.message
  return (
    <li className="search-result" data-room-id={r.room_id} data-seq={m.seq}>
      <Link to={`/chat/${r.room_id}#seq-${m.seq}`} className="search-hit" onClick={onOpen}>
        <div className="search-meta">
          <span className="search-room">
            {room?.kind !== 'direct' && '#'}
            <RoomName label={label} id={r.room_id} ambiguous={ambiguous} />
          </span>
          <span className="search-author">{author}</span>
          <time dateTime={m.created_at} title={fullDate(m.created_at)}>
            {new Date(m.created_at).toLocaleDateString()} {timeLabel(m.created_at)}
          </time>
          {m.parent_id !== null && <span>in a thread</span>}
        </div>
        <div className="search-snippet msg-body">
          {m.body ? (
            <Markup body={m.body} me={me} highlight={highlight} />
          ) : (
            r.snippet.map((s, i) => (s.match ? <mark key={i}>{s.text}</mark> : s.text))
          )}
        </div>
      </Link>
    </li>
  )
}
