// REST data of documents: the list, one document, its members. TanStack Query owns the cache.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'

import { client, unwrap } from '../api/client'
import type { components } from '../api/schema'
import { optimisticRemoval } from '../shared/optimistic'

export type DocumentInfo = components['schemas']['DocumentOut']
export type Member = components['schemas']['MemberOut']
export type Role = 'owner' | 'editor' | 'viewer'

/** The server's limit on titles (DocumentIn.title in the OpenAPI schema; a test keeps them equal). */
export const DOCUMENT_TITLE_MAX = 300

export const documentsKey = ['documents'] as const
export const documentListKey = ['documents', 'list'] as const
export const documentKey = (id: string) => ['documents', 'one', id] as const
export const membersKey = (id: string) => ['documents', 'members', id] as const

export function useDocuments() {
  return useQuery({
    queryKey: documentListKey,
    queryFn: () => unwrap(client.GET('/api/documents')),
  })
}

export function useDocument(id: string) {
  return useQuery({
    queryKey: documentKey(id),
    queryFn: () =>
      unwrap(client.GET('/api/documents/{document_id}', { params: { path: { document_id: id } } })),
  })
}

export function useCreateDocument() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (title: string) => unwrap(client.POST('/api/documents', { body: { title } })),
    onSuccess: (created) => {
      queryClient.setQueryData(documentKey(created.id), created)
      void queryClient.invalidateQueries({ queryKey: documentListKey })
    },
  })
}

export function useRenameDocument(id: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (title: string) =>
      unwrap(
        client.PATCH('/api/documents/{document_id}', {
          params: { path: { document_id: id } },
          body: { title },
        }),
      ),
    // Optimistic: the new title shows at once and is put back if the server refuses it.
    onMutate: async (title) => {
      await queryClient.cancelQueries({ queryKey: documentKey(id) })
      const previous = queryClient.getQueryData<DocumentInfo>(documentKey(id))
      if (previous) queryClient.setQueryData(documentKey(id), { ...previous, title })
      return { previous }
    },
    onError: (_error, _title, context) => {
      if (context?.previous) queryClient.setQueryData(documentKey(id), context.previous)
    },
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: documentKey(id) })
      void queryClient.invalidateQueries({ queryKey: documentListKey })
    },
  })
}

export function useDeleteDocument() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(client.DELETE('/api/documents/{document_id}', { params: { path: { document_id: id } } })),
    ...optimisticRemoval<DocumentInfo, string>(
      queryClient,
      documentListKey,
      ['documents', 'delete'],
      (d) => d.id,
    ),
    onSuccess: (_data: unknown, id: string) => {
      queryClient.removeQueries({ queryKey: documentKey(id) })
      queryClient.removeQueries({ queryKey: membersKey(id) })
    },
  })
}

export function useMembers(id: string) {
  return useQuery({
    queryKey: membersKey(id),
    queryFn: () =>
      unwrap(client.GET('/api/documents/{document_id}/members', { params: { path: { document_id: id } } })),
  })
}

export function useSetMember(id: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (member: { username: string; role: Role }) =>
      unwrap(
        client.POST('/api/documents/{document_id}/members', {
          params: { path: { document_id: id } },
          body: member,
        }),
      ),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: membersKey(id) }),
  })
}

export function useRemoveMember(id: string) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (username: string) =>
      unwrap(
        client.DELETE('/api/documents/{document_id}/members/{username}', {
          params: { path: { document_id: id, username } },
        }),
      ),
    ...optimisticRemoval<Member, string>(
      queryClient,
      membersKey(id),
      ['documents', 'members', id, 'remove'],
      (m) => m.username,
    ),
  })
}
