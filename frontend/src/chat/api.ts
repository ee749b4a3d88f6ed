// Wire types and REST calls of the chat and presence API (docs/chat.md), through the typed client.
//
// The backend grows in steps: callers treat "no such endpoint" (see `missing`) as "this server
// does not have the feature yet" and hide or explain it instead of failing.
import { client, unwrap } from '../api/client'
import { ApiError } from '../api/errors'
import type { components } from '../api/schema'

/** The server's limit on a message body, in code points. */
export const MAX_BODY = 10_000

export type RoomKind = 'public' | 'private' | 'direct'
export type PresenceStatus = 'online' | 'away' | 'offline'

type Schemas = components['schemas']
export type Reaction = Schemas['ReactionOut']

export interface Message {
  id: number
  seq: number
  created_version: number
  version_seq: number
  client_id: string
  author: string | null
  body: string
  parent_id: number | null
  reply_count?: number
  reactions?: Reaction[]
  created_at: string
  edited_at: string | null
  deleted: boolean
}

export interface Room {
  id: number
  name: string
  kind: RoomKind
  archived?: boolean
  last_seq: number
  last_version: number
  last_read_seq?: number
  unread: number
  role?: string
  members?: string[] | null
}

export interface PublicRoom {
  id: number
  name: string
  kind: RoomKind
  joined?: boolean
  archived?: boolean
  last_seq?: number
}

export type RoomMember = Schemas['MemberOut']

export interface SearchResult {
  room_id: number
  room_name: string
  rank: number
  message: Message
  snippet: { text: string; match: boolean }[]
}

export interface SearchPage {
  results: SearchResult[]
  has_more: boolean
  next_offset: number | null
}

export interface HereEntry {
  user: string
  status: PresenceStatus
}

function kindOf(kind: string): RoomKind {
  return kind === 'private' || kind === 'direct' ? kind : 'public'
}

function toRoom(r: Schemas['RoomOut']): Room {
  return { ...r, kind: kindOf(r.kind) }
}

/**
 * Did the server answer "no such endpoint" (the feature is not deployed yet)? A 404 from an
 * existing endpoint carries a JSON `detail` ("unknown room"); an unknown URL does not.
 */
export function missing(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false
  if (e.status === 405 || e.status === 501) return true
  if (e.status !== 404) return false
  const body: unknown = e.body
  const detail = body && typeof body === 'object' ? (body as { detail?: unknown }).detail : undefined
  return typeof detail !== 'string' || detail.trim().toLowerCase() === 'not found'
}

const room = (room_id: number) => ({ params: { path: { room_id } } })

export const chatApi = {
  rooms: async (): Promise<Room[]> => (await unwrap(client.GET('/api/chat/rooms'))).map(toRoom),
  publicRooms: async (): Promise<PublicRoom[]> => {
    const data: unknown = await unwrap(client.GET('/api/chat/rooms/public'))
    const list = Array.isArray(data) ? data : ((data as { rooms?: unknown } | null)?.rooms ?? [])
    return (Array.isArray(list) ? (list as Schemas['PublicRoomOut'][]) : []).map((r) => ({
      ...r,
      kind: kindOf(r.kind),
    }))
  },
  createRoom: async (name: string, isPrivate: boolean): Promise<Room> =>
    toRoom(await unwrap(client.POST('/api/chat/rooms', { body: { name, private: isPrivate } }))),
  updateRoom: async (id: number, patch: { name?: string; archived?: boolean }): Promise<Room> =>
    toRoom(await unwrap(client.PATCH('/api/chat/rooms/{room_id}', { ...room(id), body: patch }))),
  join: (id: number) => unwrap(client.POST('/api/chat/rooms/{room_id}/join', room(id))),
  leave: (id: number) => unwrap(client.POST('/api/chat/rooms/{room_id}/leave', room(id))),
  members: (id: number) => unwrap(client.GET('/api/chat/rooms/{room_id}/members', room(id))),
  addMember: (id: number, username: string) =>
    unwrap(client.POST('/api/chat/rooms/{room_id}/members', { ...room(id), body: { username } })),
  removeMember: (id: number, username: string) =>
    unwrap(
      client.DELETE('/api/chat/rooms/{room_id}/members/{username}', {
        params: { path: { room_id: id, username } },
      }),
    ),
  direct: async (usernames: string[]): Promise<Room> =>
    toRoom(await unwrap(client.POST('/api/chat/direct', { body: { usernames } }))),
  messages: async (id: number, query: { before?: number; after?: number; limit?: number }) =>
    (await unwrap(
      client.GET('/api/chat/rooms/{room_id}/messages', { params: { path: { room_id: id }, query } }),
    )) as { messages: Message[]; has_more: boolean },
  thread: async (id: number, mid: number, after?: number) =>
    (await unwrap(
      client.GET('/api/chat/rooms/{room_id}/messages/{message_id}/thread', {
        params: { path: { room_id: id, message_id: mid }, query: { after, limit: 200 } },
      }),
    )) as { parent: Message; replies: Message[]; has_more: boolean },
  react: async (id: number, mid: number, emoji: string, add: boolean): Promise<Message> => {
    const init = { params: { path: { room_id: id, message_id: mid } }, body: { emoji } }
    const path = '/api/chat/rooms/{room_id}/messages/{message_id}/reactions' as const
    return unwrap(add ? client.POST(path, init) : client.DELETE(path, init))
  },
  search: async (q: string, offset = 0, roomId?: number): Promise<SearchPage> =>
    (await unwrap(
      client.GET('/api/chat/search', {
        params: { query: { q, offset: offset || undefined, room: roomId, limit: 20 } },
      }),
    )) as unknown as SearchPage,
  online: async (): Promise<Map<string, PresenceStatus>> => {
    const data = (await unwrap(client.GET('/api/presence/online'))) as unknown as {
      users?: { user: string; status: string }[]
    } | null
    return new Map((data?.users ?? []).map((u) => [u.user, u.status === 'away' ? 'away' : 'online']))
  },
}

export function wsUrl(path: string, params: Record<string, number | undefined> = {}): string {
  const query = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&')
  const base = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`
  return query ? `${base}?${query}` : base
}

/** A websocket frame as an object; null for binary data, bad JSON or a bare JSON value. */
export function parseFrame(data: unknown): Record<string, unknown> | null {
  if (typeof data !== 'string') return null
  try {
    const frame: unknown = JSON.parse(data)
    return frame && typeof frame === 'object' && !Array.isArray(frame)
      ? (frame as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

/** How a room is called in lists: direct rooms by the other people in them. */
export function roomLabel(r: Pick<Room, 'name' | 'kind' | 'members'>, me: string): string {
  if (r.kind === 'direct' && r.members?.length) {
    const others = r.members.filter((u) => u !== me)
    return (others.length ? others : r.members).join(', ')
  }
  return r.name
}
