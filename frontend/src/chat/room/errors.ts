// How the server's refusals read in the room view.
import { describeError } from '../../api/errors'
import { MAX_BODY } from '../api'
import { formatNumber } from '../lib/format'
import type { ErrorFrame } from '../socket/RoomSocket'

/** Error frame codes (docs/chat.md) in words; unknown codes fall back to the server's message. */
export const ERROR_TEXT: Partial<Record<string, string>> & { too_long: string } = {
  too_long: `Messages can be at most ${formatNumber(MAX_BODY)} characters.`,
  empty_body: 'A message cannot be empty.',
  not_member: 'Join the room to post.',
  archived: 'This room is archived: it is read-only.',
  forbidden: 'You are not allowed to do that.',
  not_found: 'That message no longer exists.',
  unknown_parent: 'The message you replied to no longer exists.',
  deleted: 'That message was deleted.',
  invalid_emoji: 'That reaction is not allowed.',
  too_many_reactions: 'That message has too many reactions already.',
  invalid_client_id: 'The message could not be sent (bad client id).',
  unavailable: 'The server is having trouble right now; nothing was stored.',
  internal: 'The server failed; nothing was stored.',
}

export const errText = describeError

/** Seconds to wait after a `rate_limited` error frame. */
export function retryAfter(f: Pick<ErrorFrame, 'retry_after'>): number {
  return typeof f.retry_after === 'number' ? f.retry_after : 2
}
