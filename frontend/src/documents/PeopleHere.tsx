import { Avatar } from '../shared/Avatar'
import type { Peer } from './editor/usePeers'

const STACK_SIZE = 5

/** The avatar stack next to the title: one avatar per person, at most five and "+N". */
export function PeopleStack({ peers }: { peers: Peer[] }) {
  const people = [...new Map(peers.map((peer) => [peer.personId, peer])).values()]
  if (people.length === 0) return null
  const shown = people.slice(0, STACK_SIZE)
  const rest = people.slice(STACK_SIZE)
  return (
    <div id="doc-avatars" className="avatar-stack" role="group" aria-label="People here now">
      {shown.map((person) => (
        <Avatar key={person.personId} name={person.name} color={person.color} imageUrl={person.avatarUrl} />
      ))}
      {rest.length > 0 && (
        <span
          className="avatar avatar-md avatar-more"
          role="img"
          aria-label={`and ${rest.length} more: ${rest.map((p) => p.name).join(', ')}`}
          title={rest.map((p) => p.name).join(', ')}
        >
          +{rest.length}
        </span>
      )}
    </div>
  )
}

export function PeerList({ peers }: { peers: Peer[] }) {
  return (
    <section className="card" aria-labelledby="peers-title">
      <h2 id="peers-title">Here now</h2>
      {peers.length === 0 && <p className="muted small">Nobody else is here right now.</p>}
      <ul id="peers" className="peers">
        {peers.map((peer) => (
          <li key={peer.clientId} className="peer" data-client-id={peer.clientId}>
            <Avatar name={peer.name} color={peer.color} imageUrl={peer.avatarUrl} size="sm" label="" />
            <span className="peer-name">{peer.name}</span>
          </li>
        ))}
      </ul>
    </section>
  )
}
