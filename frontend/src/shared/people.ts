// How people look (display name, colour, avatar): always the server's identity, so a person has
// the same colour in documents, cursors, chat and avatars. Lookups of many names are batched.
import { useQuery } from '@tanstack/react-query'

import { send } from '../api/client'

export interface Person {
  username: string
  name: string
  color: string
  avatar_url: string | null
}

const pending = new Map<
  string,
  { resolve: (person: Person | null) => void; reject: (e: unknown) => void }[]
>()
let timer: number | undefined

/** The server answers at most this many names per call. */
const BATCH_SIZE = 100

async function flush(): Promise<void> {
  timer = undefined
  const batch = new Map([...pending].slice(0, BATCH_SIZE))
  for (const name of batch.keys()) pending.delete(name)
  if (pending.size > 0) timer = window.setTimeout(() => void flush(), 0)
  const names = [...batch.keys()]
  try {
    const query = names.map((name) => `username=${encodeURIComponent(name)}`).join('&')
    const found = (await send('GET', `/api/users?${query}`)) as Person[]
    const byName = new Map(found.map((person) => [person.username, person]))
    for (const [name, waiters] of batch) for (const w of waiters) w.resolve(byName.get(name) ?? null)
  } catch (error) {
    for (const waiters of batch.values()) for (const w of waiters) w.reject(error)
  }
}

function lookup(username: string): Promise<Person | null> {
  return new Promise((resolve, reject) => {
    const waiters = pending.get(username) ?? []
    waiters.push({ resolve, reject })
    pending.set(username, waiters)
    timer ??= window.setTimeout(() => void flush(), 10)
  })
}

/** The person behind a username (null when unknown); undefined while loading. */
export function usePerson(username: string | null | undefined): Person | null | undefined {
  const { data } = useQuery({
    queryKey: ['people', username],
    queryFn: () => lookup(username ?? ''),
    enabled: !!username,
    staleTime: 5 * 60_000,
  })
  return data
}
