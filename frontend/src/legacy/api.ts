// Thin JSON client for the Django backend (same origin, session cookie auth).

export interface User {
  id: number | string
  username: string
  name?: string
  color?: string
}

export type Role = 'owner' | 'editor' | 'viewer'

export interface DocumentInfo {
  id: string
  title: string
  role: Role
  created_at?: string
  updated_at?: string
}

export interface Member {
  username: string
  role: Role
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: unknown = null,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function getCookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const [k, ...rest] = part.trim().split('=')
    if (k === name) return decodeURIComponent(rest.join('='))
  }
  return null
}

/** Turn a JSON error body into something readable ({detail} or DRF-style field errors). */
function errorMessage(body: unknown, status: number, statusText: string): string {
  if (body && typeof body === 'object') {
    const obj = body as Record<string, unknown>
    if (typeof obj.detail === 'string') return obj.detail
    const parts: string[] = []
    for (const [field, value] of Object.entries(obj)) {
      const text = Array.isArray(value) ? value.join(' ') : String(value)
      parts.push(field === 'non_field_errors' ? text : `${field}: ${text}`)
    }
    if (parts.length) return parts.join('; ')
  }
  if (typeof body === 'string' && body.trim() && body.length < 300) return body.trim()
  return `Request failed (${status}${statusText ? ' ' + statusText : ''})`
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
    // Read the cookie on every call: Django rotates the token on login.
    const token = getCookie('csrftoken')
    if (token) headers['X-CSRFToken'] = token
  }
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, 'Network error: could not reach the server')
  }
  const text = await res.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = text
    }
  }
  if (!res.ok) throw new ApiError(res.status, errorMessage(data, res.status, res.statusText), data)
  return data as T
}

const enc = encodeURIComponent

export const api = {
  me: () => request<User>('GET', '/api/auth/me'),
  login: (username: string, password: string) =>
    request<User>('POST', '/api/auth/login', { username, password }),
  register: (username: string, password: string, email?: string) =>
    request<User>('POST', '/api/auth/register', email ? { username, password, email } : { username, password }),
  logout: () => request<null>('POST', '/api/auth/logout'),

  listDocuments: () => request<DocumentInfo[]>('GET', '/api/documents'),
  createDocument: (title: string) => request<DocumentInfo>('POST', '/api/documents', { title }),
  getDocument: (id: string) => request<DocumentInfo>('GET', `/api/documents/${enc(id)}`),
  renameDocument: (id: string, title: string) =>
    request<DocumentInfo>('PATCH', `/api/documents/${enc(id)}`, { title }),

  listMembers: (id: string) => request<Member[]>('GET', `/api/documents/${enc(id)}/members`),
  addMember: (id: string, username: string, role: Role) =>
    request<Member>('POST', `/api/documents/${enc(id)}/members`, { username, role }),
  removeMember: (id: string, username: string) =>
    request<null>('DELETE', `/api/documents/${enc(id)}/members/${enc(username)}`),
}
