import { QueryClient } from '@tanstack/react-query'

import { ApiError } from '../api/errors'

/** Retry what may pass on a second try (network, 5xx, 429 after its wait), never a 4xx answer. */
function shouldRetry(failures: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false
  return failures < 2
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: shouldRetry, refetchOnWindowFocus: true, staleTime: 10_000 },
      mutations: { retry: false },
    },
  })
}
