import type { QueryClient, QueryKey } from '@tanstack/react-query'

interface Removed<T> {
  item: T | undefined
  index: number
}

/**
 * Callbacks for a mutation that removes one item from a cached list at once. A refusal puts back
 * only that item (where it was, unless the list has it again), so other removals in flight stay
 * removed; the list is fetched again once the last removal of the same `mutationKey` settles, so a
 * refetch cannot bring back an item whose removal is still on its way.
 */
export function optimisticRemoval<T, Id>(
  queryClient: QueryClient,
  listKey: QueryKey,
  mutationKey: QueryKey,
  idOf: (item: T) => Id,
) {
  return {
    mutationKey,
    onMutate: async (id: Id): Promise<Removed<T>> => {
      await queryClient.cancelQueries({ queryKey: listKey })
      const list = queryClient.getQueryData<T[]>(listKey) ?? []
      const index = list.findIndex((item) => idOf(item) === id)
      queryClient.setQueryData<T[]>(listKey, (current) => current?.filter((item) => idOf(item) !== id))
      return { item: list[index] as T | undefined, index }
    },
    onError: (_error: unknown, id: Id, removed: Removed<T> | undefined) => {
      const item = removed?.item
      if (item === undefined) return
      queryClient.setQueryData<T[]>(listKey, (current) => {
        if (!current || current.some((other) => idOf(other) === id)) return current
        const next = [...current]
        next.splice(Math.min(removed?.index ?? 0, next.length), 0, item)
        return next
      })
    },
    onSettled: () => {
      // This mutation still counts as running while it settles.
      if (queryClient.isMutating({ mutationKey }) <= 1)
        void queryClient.invalidateQueries({ queryKey: listKey })
    },
  }
}
