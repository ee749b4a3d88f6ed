// The smallest observable value: plain TS state machines expose their state through these,
// and components read them with useSyncExternalStore (see useStore).
import { useSyncExternalStore } from 'react'

export class Store<T> {
  private value: T
  private readonly listeners = new Set<() => void>()

  constructor(initial: T) {
    this.value = initial
  }

  readonly get = (): T => this.value

  set(next: T | ((prev: T) => T)): void {
    const value = typeof next === 'function' ? (next as (prev: T) => T)(this.value) : next
    if (Object.is(value, this.value)) return
    this.value = value
    this.emit()
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  protected emit(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener()
      } catch (error) {
        console.error(error)
      }
    }
  }
}

/** Anything with subscribe + a snapshot getter. */
export interface Readable<T> {
  get: () => T
  subscribe: (listener: () => void) => () => void
}

export function useStore<T>(store: Readable<T>): T {
  return useSyncExternalStore(store.subscribe, store.get, store.get)
}
