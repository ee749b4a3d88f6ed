// Reconnect timing shared by every websocket of the app.

const RECONNECT_BASE_MS = 500
const RECONNECT_MAX_MS = 30_000

/** "Full jitter" backoff: uniform in [0, min(max, base * 2^attempt)). */
export function reconnectDelay(attempt: number): number {
  const cap = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 16))
  return Math.floor(Math.random() * cap)
}
