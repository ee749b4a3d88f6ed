import { describe, expect, it } from 'vitest'

import type { DocumentInfo } from './api'
import { arrangeDocuments } from './list'

const doc = (id: string, title: string, updated: string): DocumentInfo => ({
  id,
  title,
  role: 'owner',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: updated,
})

const DOCS = [
  doc('a', 'Zebra notes', '2026-03-01T00:00:00Z'),
  doc('b', 'Café plans', '2026-05-01T00:00:00Z'),
  doc('c', 'apple pie', '2026-04-01T00:00:00Z'),
  doc('d', 'Plan 10', '2026-02-01T00:00:00Z'),
  doc('e', 'Plan 9', '2026-02-01T00:00:00Z'),
]

describe('arrangeDocuments', () => {
  it('orders by most recent edit by default', () => {
    expect(arrangeDocuments(DOCS, '', 'recent').map((d) => d.id)).toEqual(['b', 'c', 'a', 'd', 'e'])
  })

  it('orders titles case-insensitively, numbers as numbers', () => {
    expect(arrangeDocuments(DOCS, '', 'title').map((d) => d.title)).toEqual([
      'apple pie',
      'Café plans',
      'Plan 9',
      'Plan 10',
      'Zebra notes',
    ])
  })

  it('finds titles by a case- and accent-insensitive substring', () => {
    expect(arrangeDocuments(DOCS, 'CAFE', 'recent').map((d) => d.id)).toEqual(['b'])
    expect(arrangeDocuments(DOCS, ' plan', 'title').map((d) => d.id)).toEqual(['b', 'e', 'd'])
    expect(arrangeDocuments(DOCS, 'nothing like it', 'recent')).toEqual([])
  })
})
