// The signed-in person's account: profile, avatar, password, API tokens and browser sessions.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'

import { client, send, unwrap } from '../../api/client'
import type { components } from '../../api/schema'
import { optimisticRemoval } from '../../shared/optimistic'
import { meKey, type User } from '../queries'

export type ProfileChange = components['schemas']['ProfileIn']
export type TokenInfo = components['schemas']['TokenInfoOut']
export type CreatedToken = components['schemas']['CreatedTokenOut']
export type SessionInfo = components['schemas']['SessionOut']

/** The server's limit on token names (TokenCreateIn.name; src/api/limits.test.ts keeps them equal). */
export const TOKEN_NAME_MAX = 100

const tokensKey = ['account', 'tokens'] as const
const sessionsKey = ['account', 'sessions'] as const

export const profileMutationKey = ['account', 'profile'] as const

export function useUpdateProfile() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationKey: profileMutationKey,
    mutationFn: (body: ProfileChange) => unwrap(client.PATCH('/api/auth/me', { body })),
    onSuccess: (user) => {
      queryClient.setQueryData(meKey, user)
      // Everyone's view of this person (chat, documents) reads the people cache.
      void queryClient.invalidateQueries({ queryKey: ['people', user.username] })
    },
  })
}

export function useAvatar() {
  const queryClient = useQueryClient()
  const settle = (user: User | null) => {
    if (user) queryClient.setQueryData(meKey, user)
    void queryClient.invalidateQueries({ queryKey: meKey })
    void queryClient.invalidateQueries({ queryKey: ['people'] })
  }
  const upload = useMutation({
    mutationFn: async (file: File) => {
      const form = new FormData()
      form.append('file', file)
      return (await send('POST', '/api/auth/me/avatar', form)) as User
    },
    onSuccess: settle,
  })
  const remove = useMutation({
    mutationFn: () => unwrap(client.DELETE('/api/auth/me/avatar')),
    onSuccess: () => settle(null),
  })
  return { upload, remove }
}

export function useChangePassword() {
  const queryClient = useQueryClient()
  return useMutation({
    gcTime: 0,
    mutationFn: (body: { current_password: string; new_password: string }) =>
      unwrap(client.POST('/api/auth/password', { body })),
    // Every other session ended with the old password.
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: sessionsKey }),
  })
}

export function useTokens() {
  return useQuery({ queryKey: tokensKey, queryFn: () => unwrap(client.GET('/api/auth/tokens')) })
}

export function useCreateToken() {
  const queryClient = useQueryClient()
  return useMutation({
    gcTime: 0, // the token's value lives in the page only, not in the mutation cache
    mutationFn: (body: { name: string; expires_in_days?: number | null }) =>
      unwrap(client.POST('/api/auth/tokens', { body })),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: tokensKey }),
  })
}

export function useRevokeToken() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (id: number) =>
      unwrap(client.DELETE('/api/auth/tokens/{token_id}', { params: { path: { token_id: id } } })),
    ...optimisticRemoval<TokenInfo, number>(
      queryClient,
      tokensKey,
      ['account', 'tokens', 'revoke'],
      (t) => t.id,
    ),
  })
}

export function useSessions() {
  return useQuery({ queryKey: sessionsKey, queryFn: () => unwrap(client.GET('/api/auth/sessions')) })
}

export function useEndSession() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (id: number) =>
      unwrap(client.DELETE('/api/auth/sessions/{session_id}', { params: { path: { session_id: id } } })),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: sessionsKey }),
  })
}

export function useLogoutEverywhere() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (includeCurrent: boolean) =>
      unwrap(client.POST('/api/auth/sessions/logout-all', { body: { include_current: includeCurrent } })),
    onSuccess: (_ended, includeCurrent) => {
      if (includeCurrent) {
        queryClient.clear()
        queryClient.setQueryData(meKey, null)
      } else {
        void queryClient.invalidateQueries({ queryKey: sessionsKey })
      }
    },
  })
}
