// A stand-in for the REST server in component tests: routes "METHOD /path" to handlers.
// (End-to-end tests run the real server; these check what components do with its answers.)
import { vi } from 'vitest'

export interface FakeRequest {
  method: string
  path: string
  query: URLSearchParams
  body: unknown
}

type Handler = (
  request: FakeRequest,
) => { status?: number; body?: unknown } | Promise<{ status?: number; body?: unknown }>

export class FakeServer {
  readonly requests: FakeRequest[] = []
  private routes = new Map<string, Handler>()

  on(route: string, handler: Handler): this {
    this.routes.set(route, handler)
    return this
  }

  install(): void {
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => this.handle(input, init))
  }

  private async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request =
      input instanceof Request ? input : new Request(new URL(String(input), location.origin), init)
    const url = new URL(request.url)
    const text = await request.text()
    const fake: FakeRequest = {
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      body: text ? (JSON.parse(text) as unknown) : null,
    }
    this.requests.push(fake)
    const handler = this.routes.get(`${fake.method} ${fake.path}`)
    if (!handler) return json(404, { detail: 'not found', code: 'not_found' })
    const { status = 200, body = null } = await handler(fake)
    return status === 204 ? new Response(null, { status }) : json(status, body)
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}
