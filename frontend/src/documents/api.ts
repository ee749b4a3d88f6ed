// REST data of documents: the list, one document, its members. TanStack Query owns the cache.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'

import { client, unwrap } from '../api/client'
import type { components } from '../api/schema'

export type DocumentInfo = components['schemas']['DocumentOut']
export type Member = components['schemas']['MemberOut']
export type Role = 'owner' | 'editor' | 'viewer'

/** The server's limit on titles (DocumentIn.title in the OpenAPI schema; a test keeps them equal). */
export const DOCUMENT_TITLE_MAX = 300

export const documentsKey = ['documents'] as const
export const documentKey = (id: string) => ['documents', 'one', id] as const
export const membersKey = (id: string) => ['documents', 'members', id] as const

export function useDocuments() {
  return useQuery({
    queryKey: [...documentsKey, 'list'],
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
      void queryClient.invalidateQueries({ queryKey: [...documentsKey, 'list'] })
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
      void queryClient.invalidateQueries({ queryKey: documentsKey })
    },
  })
}

export function useDeleteDocument() {
  const queryClient = useQueryClient()
  const listKey = [...documentsKey, 'list']
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(client.DELETE('/api/documents/{document_id}', { params: { path: { document_id: id } } })),
    onMutate: async (id) => {
      await queryClient.cancelQueries({ queryKey: listKey })
      const previous = queryClient.getQueryData<DocumentInfo[]>(listKey)
      if (previous)
        queryClient.setQueryData(
          listKey,
          previous.filter((d) => d.id !== id),
        )
      return { previous }
    },
    onError: (_error, _id, context) => {
      if (context?.previous) queryClient.setQueryData(listKey, context.previous)
    },
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: listKey })
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
    onMutate: async (username) => {
      await queryClient.cancelQueries({ queryKey: membersKey(id) })
      const previous = queryClient.getQueryData<Member[]>(membersKey(id))
      if (previous)
        queryClient.setQueryData(
          membersKey(id),
          previous.filter((m) => m.username !== username),
        )
      return { previous }
    },
    onError: (_error, _username, context) => {
      if (context?.previous) queryClient.setQueryData(membersKey(id), context.previous)
    },
    onSettled: () => void queryClient.invalidateQueries({ queryKey: membersKey(id) }),
  })
}
