import { listNames } from '../lib/format'
import { useDisplayName } from '../lib/people'
import { useStore } from '../lib/store'
import type { RoomController } from './RoomController'

/** #typing-indicator[data-users]: who else is typing. */
export function TypingIndicator({ controller }: { controller: RoomController }) {
  const names = useStore(controller.typing.others)
  return (
    <div id="typing-indicator" className="typing-indicator" aria-live="polite" data-users={names.join(',')}>
      {names.length > 0 && (
        <>
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          <strong>{names.length > 3 ? listNames(names) : <Names names={names} />}</strong>
          {names.length === 1 ? ' is typing…' : ' are typing…'}
        </>
      )}
    </div>
  )
}

function Names({ names }: { names: readonly string[] }) {
  return names.map((n, i) => (
    <span key={n}>
      {i > 0 && (i === names.length - 1 ? ' and ' : ', ')}
      <Name username={n} />
    </span>
  ))
}

function Name({ username }: { username: string }) {
  return <>{useDisplayName(username)}</>
}
