/** Close codes sent by the server that mean "do not reconnect". */
export const FATAL_CLOSE: Partial<Record<number, string>> = {
  4400: 'The server rejected a malformed message. Reload the page to reconnect.',
  4401: 'You are not signed in (or your session has expired).',
  4403: 'You do not have access to this document.',
  4404: 'This document does not exist (it may have been deleted).',
  1009: 'A change was too large for the server to accept. Reload the page; edits that were not saved are lost.',
  4413: 'A change was too large for the server to accept. Reload the page; edits that were not saved are lost.',
}

/** Close codes that mean "try again later": a transient banner, then reconnect with backoff. */
export const TRANSIENT_CLOSE: Partial<Record<number, { message: string; minAttempt: number }>> = {
  // Server at capacity: start further up the backoff curve so a busy server is not hammered.
  4503: { message: 'Server busy, retrying…', minAttempt: 3 },
  4500: { message: 'Server error, retrying…', minAttempt: 0 },
  // The worker cannot store edits now (its database is down): the edit was not applied, and the
  // document keeps it to send after the reconnect (docs/api.md).
  4507: {
    message: 'The server cannot save changes right now; your edits are kept, retrying…',
    minAttempt: 3,
  },
  // The worker is restarting: every client of it reconnects at once, so spread them out.
  1012: { message: 'Server restarting, reconnecting…', minAttempt: 2 },
}

export type SyncStatus = 'connecting' | 'connected' | 'synced' | 'disconnected'

export interface Banner {
  code: number
  message: string
  kind: 'fatal' | 'transient'
}
