/** A failed REST call: the HTTP status (0 for a network failure), the server's message and code. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly retryAfter: number | null
  readonly body: unknown

  constructor(
    status: number,
    message: string,
    code = '',
    body: unknown = null,
    retryAfter: number | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.body = body
    this.retryAfter = retryAfter
  }
}

interface ValidationItem {
  loc?: unknown[]
  msg?: unknown
}

/** The server's errors are {"detail": text or validation items, "code": ...}; make them one readable line. */
export function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === 'object' && 'detail' in body) {
    const detail = body.detail
    if (typeof detail === 'string') return detail
    if (Array.isArray(detail)) {
      const parts = (detail as ValidationItem[]).map((item) => {
        const last: unknown = Array.isArray(item.loc) ? item.loc[item.loc.length - 1] : ''
        const field = typeof last === 'string' || typeof last === 'number' ? String(last) : ''
        const msg = typeof item.msg === 'string' ? item.msg : 'is invalid'
        return field && field !== 'body' ? `${field}: ${msg}` : msg
      })
      if (parts.length) return parts.join('; ')
    }
  }
  if (status === 0) return 'Network error: could not reach the server'
  return `Request failed (${status})`
}

export function apiErrorFrom(status: number, body: unknown, headers?: Headers): ApiError {
  const code =
    body && typeof body === 'object' && 'code' in body && typeof body.code === 'string' ? body.code : ''
  let retryAfter: number | null = null
  if (body && typeof body === 'object' && 'retry_after' in body && typeof body.retry_after === 'number') {
    retryAfter = body.retry_after
  } else if (headers?.get('Retry-After')) {
    const seconds = Number(headers.get('Retry-After'))
    retryAfter = Number.isFinite(seconds) ? seconds : null
  }
  return new ApiError(status, errorMessage(body, status), code, body, retryAfter)
}

/** What to show a person for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message
  if (error instanceof Error) return error.message
  return String(error)
}
