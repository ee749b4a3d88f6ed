// A WebSocket stand-in for unit tests: records what is sent, lets the test open, close and
// answer. (The browser tests in tests/e2e run the real thing against real servers.)
export class FakeWebSocket {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSING = 2
  static readonly CLOSED = 3
  static all: FakeWebSocket[] = []

  readyState = FakeWebSocket.CONNECTING
  sent: Record<string, unknown>[] = []
  onopen: ((ev: Event) => void) | null = null
  onmessage: ((ev: MessageEvent) => void) | null = null
  onclose: ((ev: CloseEvent) => void) | null = null
  onerror: ((ev: Event) => void) | null = null
  closedWith: number | null = null

  constructor(readonly url: string) {
    FakeWebSocket.all.push(this)
  }

  static reset(): void {
    FakeWebSocket.all = []
  }

  static last(): FakeWebSocket {
    const ws = FakeWebSocket.all.at(-1)
    if (!ws) throw new Error('no socket was opened')
    return ws
  }

  send(data: string): void {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('send on a socket that is not open')
    this.sent.push(JSON.parse(data) as Record<string, unknown>)
  }

  close(code = 1000): void {
    this.closedWith = code
    this.readyState = FakeWebSocket.CLOSED
  }

  // ---- driven by the test

  open(): void {
    this.readyState = FakeWebSocket.OPEN
    this.onopen?.(new Event('open'))
  }

  receive(frame: Record<string, unknown>): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(frame) }))
  }

  serverClose(code: number): void {
    this.readyState = FakeWebSocket.CLOSED
    this.onclose?.({ code } as CloseEvent)
  }

  sentOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === type)
  }
}

export function installFakeWebSocket(): typeof FakeWebSocket {
  FakeWebSocket.reset()
  ;(globalThis as { WebSocket: unknown }).WebSocket = FakeWebSocket
  return FakeWebSocket
}
