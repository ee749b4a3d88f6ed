// Who is signed in, and signing in and out: TanStack Query owns the "me" record.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'

import { client, unwrap } from '../api/client'
import { ApiError } from '../api/errors'
import type { components } from '../api/schema'

export type User = components['schemas']['UserOut']

export const meKey = ['me'] as const

/** The signed-in user, or null when nobody is (401/403). Other failures are errors. */
export async function fetchMe(): Promise<User | null> {
  try {
    return await unwrap(client.GET('/api/auth/me'))
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null
    throw error
  }
}

export function useMe() {
  return useQuery({ queryKey: meKey, queryFn: fetchMe, staleTime: 60_000, retry: 1 })
}

/** The signed-in user for pages inside <RequireUser> (which renders nothing until there is one). */
export function useCurrentUser(): User {
  const { data } = useMe()
  if (!data) throw new Error('useCurrentUser outside <RequireUser>')
  return data
}

export function displayName(user: { name?: string | null; username: string }): string {
  return user.name || user.username
}

/** The account exists but signing in right after failed: sending the form again would say "taken". */
export class RegisteredError extends Error {
  constructor() {
    super('Your account was created, but signing in failed. Please sign in.')
    this.name = 'RegisteredError'
  }
}

export interface Credentials {
  username: string
  password: string
}

export function useLogin() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (body: Credentials) => unwrap(client.POST('/api/auth/login', { body })),
    onSuccess: (user) => {
      // Data cached for someone else (or nobody) must not leak into this session.
      queryClient.clear()
      queryClient.setQueryData(meKey, user)
    },
  })
}

export function useRegister() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async (body: Credentials & { email: string }) => {
      await unwrap(client.POST('/api/auth/register', { body }))
      try {
        return await unwrap(
          client.POST('/api/auth/login', { body: { username: body.username, password: body.password } }),
        )
      } catch {
        throw new RegisteredError()
      }
    },
    onSuccess: (user) => {
      queryClient.clear()
      queryClient.setQueryData(meKey, user)
    },
  })
}

export function useLogout() {
  const queryClient = useQueryClient()
  const signedOut = () => {
    queryClient.clear()
    queryClient.setQueryData(meKey, null)
  }
  return useMutation({
    mutationFn: () => unwrap(client.POST('/api/auth/logout')),
    onSuccess: signedOut,
    // Already signed out on the server; any other failure leaves the session valid, so say so.
    onError: (error) => {
      if (error instanceof ApiError && error.status === 401) signedOut()
    },
  })
}

/** Where ?next= says to go, if that is on this site; '/' otherwise (`//evil`, `/\\evil`, `/%09/evil`…). */
export function safeNext(search: string): string {
  const next = new URLSearchParams(search).get('next')
  if (!next?.startsWith('/')) return '/'
  try {
    const url = new URL(next, window.location.origin)
    return url.origin === window.location.origin ? url.pathname + url.search + url.hash : '/'
  } catch {
    return '/'
  }
}
