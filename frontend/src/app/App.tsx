import { QueryClientProvider, type QueryClient } from '@tanstack/react-query'
import { lazy, Suspense, useState, type ReactNode } from 'react'
import { createBrowserRouter, RouterProvider, type RouteObject } from 'react-router'

import { LoginPage, RegisterPage } from '../account/AuthPage'
import { DocumentsPage } from '../documents/DocumentsPage'
import { SignedInLayout } from './Layout'
import { NotFound } from './NotFound'

// The editor (Tiptap + Yjs) and the chat are the heavy parts: loaded only on their pages.
const DocumentPage = lazy(() => import('../documents/DocumentPage'))
const ChatPage = lazy(() => import('../chat/ChatPage'))
const SettingsPage = lazy(() => import('../account/settings/SettingsPage'))
const ForgotPasswordPage = lazy(() => import('../account/ForgotPasswordPage'))
const ResetPasswordPage = lazy(() => import('../account/ResetPasswordPage'))

function Loading({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <p className="loading muted" role="status">
          Loading…
        </p>
      }
    >
      {children}
    </Suspense>
  )
}

export const routes: RouteObject[] = [
  { path: '/login', element: <LoginPage /> },
  { path: '/register', element: <RegisterPage /> },
  { path: '/forgot-password', element: <Loading children={<ForgotPasswordPage />} /> },
  { path: '/reset-password/:uid/:token', element: <Loading children={<ResetPasswordPage />} /> },
  {
    element: <SignedInLayout />,
    children: [
      { path: '/', element: <DocumentsPage /> },
      { path: '/docs/:documentId', element: <Loading children={<DocumentPage />} /> },
      { path: '/chat', element: <Loading children={<ChatPage />} /> },
      { path: '/chat/:roomId', element: <Loading children={<ChatPage />} /> },
      { path: '/settings', element: <Loading children={<SettingsPage />} /> },
      { path: '/settings/:section', element: <Loading children={<SettingsPage />} /> },
    ],
  },
  { path: '*', element: <NotFound /> },
]

export function App({ queryClient }: { queryClient: QueryClient }) {
  const [router] = useState(() => createBrowserRouter(routes))
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  )
}
