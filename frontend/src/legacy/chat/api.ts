// REST calls and wire types of the chat and presence API (docs/chat.md).
//
// The backend grows in steps, so optional fields are optional here and callers treat a
// 404/405 from an endpoint as "this server does not have the feature yet" (see `missing`).

import { ApiError, request } from '../api'

/** The server's limit on a message body, in code points. */
export const MAX_BODY = 10_000

export type RoomKind = 'public' | 'private' | 'direct'
export type RoomRole = 'owner' | 'member'

export interface Reaction {
  emoji: string
  count: number
  users: string[]
}

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
  role?: RoomRole
  members?: string[]
}

export interface PublicRoom {
  id: number
  name: string
  kind: RoomKind
  joined?: boolean
  archived?: boolean
  last_seq?: number
  members_count?: number
}

export interface RoomMember {
  username: string
  role: RoomRole
  last_read_seq?: number
}

export type PresenceStatus = 'online' | 'away' | 'offline'

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

export interface MessagePage {
  messages: Message[]
  has_more: boolean
}

export interface ThreadPage {
  parent: Message
  replies: Message[]
  has_more: boolean
}

/**
 * Did the server answer "no such endpoint" (the feature is not deployed yet)? A 404 from
 * an existing endpoint carries a JSON `detail` ("unknown room"); an unknown URL does not
 * (Django's HTML page) or says just "Not Found".
 */
export function missing(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false
  if (e.status === 405 || e.status === 501) return true
  if (e.status !== 404) return false
  const detail = e.body && typeof e.body === 'object' ? (e.body as { detail?: unknown }).detail : undefined
  return typeof detail !== 'string' || detail.trim().toLowerCase() === 'not found'
}

const enc = encodeURIComponent

function query(params: Record<string, string | number | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`)
  return parts.length ? `?${parts.join('&')}` : ''
}

export const chatApi = {
  rooms: () => request<Room[]>('GET', '/api/chat/rooms'),
  publicRooms: () => request<PublicRoom[] | { rooms: PublicRoom[] }>('GET', '/api/chat/rooms/public'),
  createRoom: (name: string, isPrivate: boolean) =>
    request<Room>('POST', '/api/chat/rooms', { name, private: isPrivate }),
  updateRoom: (id: number, patch: { name?: string; archived?: boolean }) =>
    request<Room>('PATCH', `/api/chat/rooms/${id}`, patch),
  join: (id: number) => request<null>('POST', `/api/chat/rooms/${id}/join`),
  leave: (id: number) => request<null>('POST', `/api/chat/rooms/${id}/leave`),
  members: (id: number) => request<RoomMember[]>('GET', `/api/chat/rooms/${id}/members`),
  addMember: (id: number, username: string) =>
    request<unknown>('POST', `/api/chat/rooms/${id}/members`, { username }),
  removeMember: (id: number, username: string) =>
    request<null>('DELETE', `/api/chat/rooms/${id}/members/${enc(username)}`),
  direct: (usernames: string[]) => request<Room>('POST', '/api/chat/direct', { usernames }),
  messages: (id: number, opts: { before?: number; after?: number; limit?: number }) =>
    request<MessagePage>('GET', `/api/chat/rooms/${id}/messages${query(opts)}`),
  thread: (id: number, mid: number, after?: number) =>
    request<ThreadPage>('GET', `/api/chat/rooms/${id}/messages/${mid}/thread${query({ after, limit: 200 })}`),
  read: (id: number, seq: number) =>
    request<{ last_read_seq: number; unread: number }>('POST', `/api/chat/rooms/${id}/read`, { seq }),
  search: (q: string, offset = 0, room?: number) =>
    request<SearchPage>('GET', `/api/chat/search${query({ q, offset: offset || undefined, room, limit: 20 })}`),
  online: () =>
    request<{ users: { user: string; status: PresenceStatus; last_active?: string }[] }>('GET', '/api/presence/online'),
  here: (object: string) =>
    request<{ here: { user: string; status: PresenceStatus }[] }>('GET', `/api/presence/here${query({ object })}`),
}

/** Public rooms come as a list (or wrapped in {rooms}); accept both. */
export function publicRoomList(data: PublicRoom[] | { rooms: PublicRoom[] }): PublicRoom[] {
  return Array.isArray(data) ? data : Array.isArray(data?.rooms) ? data.rooms : []
}

export function wsUrl(path: string, params: Record<string, string | number | undefined> = {}): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}${query(params)}`
}

/** A websocket frame as an object; null for binary data, bad JSON or a bare JSON value. */
export function parseFrame(data: unknown): Record<string, unknown> | null {
  if (typeof data !== 'string') return null
  try {
    const frame: unknown = JSON.parse(data)
    return frame && typeof frame === 'object' ? (frame as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/** How a room is called in lists: direct rooms by the other people in them. */
export function roomLabel(room: Pick<Room, 'name' | 'kind' | 'members'>, me: string): string {
  if (room.kind === 'direct' && room.members?.length) {
    const others = room.members.filter((u) => u !== me)
    return (others.length ? others : room.members).join(', ')
  }
  return room.name
}
