import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { render } from '@testing-library/react'
import type { ReactElement } from 'react'
import { createMemoryRouter, RouterProvider } from 'react-router'

import { meKey, type User } from '../account/queries'

export const ALICE: User = {
  id: 1,
  username: 'alice',
  name: 'Alice',
  color: '#1565c0',
  email: 'alice@example.com',
  theme: 'system',
  avatar_url: null,
}

/** Renders `element` at `path` (matching `pattern`) with a fresh query cache, signed in as `user`. */
interface Options {
  path?: string
  pattern?: string
  user?: User | null
}

export function renderPage(element: ReactElement, options: Options = {}) {
  const { path = '/', user = ALICE } = options
  const pattern = options.pattern ?? path.split('?')[0]
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  })
  queryClient.setQueryData(meKey, user)
  const router = createMemoryRouter(
    [
      { path: pattern, element },
      { path: '*', element: <p>elsewhere</p> },
    ],
    { initialEntries: [path] },
  )
  return {
    queryClient,
    router,
    ...render(
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>,
    ),
  }
}
