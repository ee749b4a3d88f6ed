// The one REST client: typed by src/api/schema.d.ts, which is generated from the server's
// /api/openapi.json (scripts/check_api_types fails the build when the two drift apart).
import createClient, { type Middleware } from 'openapi-fetch'

import { ApiError, apiErrorFrom } from './errors'
import type { paths } from './schema'

export function getCookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('='))
  }
  return null
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

const csrf: Middleware = {
  onRequest({ request }) {
    // Read the cookie on every call: Django rotates the token on login.
    if (!SAFE_METHODS.has(request.method)) {
      const token = getCookie('csrftoken')
      if (token) request.headers.set('X-CSRFToken', token)
    }
    request.headers.set('Accept', 'application/json')
    return request
  },
}

export const client = createClient<paths>({
  baseUrl: window.location.origin,
  credentials: 'same-origin',
  // Looked up at each call (not captured once), so tests can stand in for the server.
  fetch: (request: Request) => globalThis.fetch(request),
})
client.use(csrf)

interface Outcome<T> {
  data?: T
  error?: unknown
  response: Response
}

/** The data of a typed call, or an ApiError (status 0 when the server could not be reached). */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>
  try {
    outcome = await call
  } catch (error) {
    if (error instanceof ApiError) throw error
    throw new ApiError(0, 'Network error: could not reach the server')
  }
  const { data, error, response } = outcome
  if (!response.ok) throw apiErrorFrom(response.status, error ?? null, response.headers)
  return data as T
}

/** For the few calls the schema cannot type (multipart uploads): same errors as `unwrap`. */
export async function send(method: string, path: string, body?: BodyInit): Promise<unknown> {
  const headers = new Headers({ Accept: 'application/json' })
  const token = getCookie('csrftoken')
  if (token && !SAFE_METHODS.has(method)) headers.set('X-CSRFToken', token)
  let response: Response
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'Network error: could not reach the server')
  }
  const text = await response.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = text
    }
  }
  if (!response.ok) throw apiErrorFrom(response.status, data, response.headers)
  return data
}
