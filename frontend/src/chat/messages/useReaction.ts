// Reactions: shown at once (optimistic), sent over REST, rolled back if the server refuses;
// a server without the REST endpoint gets the socket frame instead.
import { useMutation } from '@tanstack/react-query'
import { useCallback } from 'react'

import { chatApi, missing, type Message } from '../api'
import { ApiError } from '../../api/errors'
import { ERROR_TEXT, errText } from '../room/errors'
import type { RoomController } from '../room/RoomController'

interface Vars {
  m: Message
  emoji: string
  add: boolean
}

export function useReaction(controller: RoomController): (m: Message, emoji: string, add: boolean) => void {
  const mutation = useMutation({
    mutationFn: ({ m, emoji, add }: Vars) => chatApi.react(controller.roomId, m.id, emoji, add),
    onMutate: ({ m, emoji, add }: Vars) => ({ undo: controller.store.optimisticReaction(m.id, emoji, add) }),
    onSuccess: (message) => {
      controller.store.put(message, true)
    },
    onError: (error, { m, emoji, add }, context) => {
      context?.undo()
      if (missing(error)) {
        if (!controller.send({ type: add ? 'reaction.add' : 'reaction.remove', id: m.id, emoji })) return
        return
      }
      if (error instanceof ApiError && error.status === 429) {
        const wait = error.retryAfter ?? 2
        controller.notice('Slow down.', 'warn', { code: 'rate_limited', until: Date.now() + wait * 1000 })
        return
      }
      const code = error instanceof ApiError ? error.code : ''
      controller.notice(ERROR_TEXT[code] ?? errText(error), 'error', { code: code || 'reaction' })
    },
  })
  const { mutate } = mutation
  return useCallback((m: Message, emoji: string, add: boolean) => mutate({ m, emoji, add }), [mutate])
}
