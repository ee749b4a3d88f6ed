import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { Collaboration } from './collaboration'

/** Just enough of a WebSocket for y-websocket: the test opens and closes it as a server would. */
class FakeSocket {
  static made: FakeSocket[] = []
  binaryType = 'blob'
  readyState = 0
  sent: unknown[] = []
  onopen: (() => void) | null = null
  onclose: ((event: { code: number }) => void) | null = null
  onmessage: ((event: unknown) => void) | null = null
  onerror: ((event: unknown) => void) | null = null

  constructor(readonly url: string) {
    FakeSocket.made.push(this)
  }
  send(data: unknown) {
    this.sent.push(data)
  }
  close() {
    this.serverCloses(1000)
  }
  open() {
    this.readyState = 1
    this.onopen?.()
  }
  serverCloses(code: number) {
    this.readyState = 3
    this.onclose?.({ code })
  }
}

const latest = () => FakeSocket.made[FakeSocket.made.length - 1]
let connection: Collaboration

beforeEach(() => {
  vi.useFakeTimers()
  FakeSocket.made = []
  connection = new Collaboration('doc-1', FakeSocket as unknown as typeof WebSocket)
  connection.start()
})

afterEach(() => {
  connection.destroy()
  vi.useRealTimers()
})

describe('Collaboration', () => {
  it('connects to the document room and reports the socket state', () => {
    expect(FakeSocket.made).toHaveLength(1)
    expect(latest().url).toMatch(/\/ws\/docs\/doc-1$/)
    expect(connection.getState().status).toBe('connecting')
    latest().open()
    expect(connection.getState().status).toBe('connected')
  })

  it.each([4400, 4401, 4403, 4404, 4413, 1009])('stops for good on close code %i and says why', (code) => {
    latest().open()
    latest().serverCloses(code)
    expect(connection.getState()).toMatchObject({ status: 'disconnected', banner: { code, kind: 'fatal' } })
    vi.advanceTimersByTime(120_000)
    expect(FakeSocket.made).toHaveLength(1)
  })

  it('retries a busy server further up the backoff curve, with a banner until it syncs', () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.999)
    latest().open()
    latest().serverCloses(4503)
    expect(connection.getState().banner).toMatchObject({ code: 4503, kind: 'transient' })
    // attempt 3: up to 500 ms * 2^3 = 4 s, never sooner than the jittered delay
    vi.advanceTimersByTime(3_900)
    expect(FakeSocket.made).toHaveLength(1)
    vi.advanceTimersByTime(200)
    expect(FakeSocket.made).toHaveLength(2)
    random.mockRestore()
  })

  it('reconnects after an ordinary drop with jitter, not y-websocket’s fixed timer', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    latest().open()
    latest().serverCloses(1006)
    expect(connection.getState().banner).toBeNull()
    vi.advanceTimersByTime(1)
    expect(FakeSocket.made).toHaveLength(2)
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.made).toHaveLength(2) // only ours: the provider's own timer found shouldConnect off
  })
})
