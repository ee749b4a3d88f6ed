import type { DocumentInfo } from './api'

export type DocumentSort = 'recent' | 'title'

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true })

/** The documents whose title contains `query` (case- and accent-insensitive), in the chosen order. */
export function arrangeDocuments(
  documents: DocumentInfo[],
  query: string,
  sort: DocumentSort,
): DocumentInfo[] {
  const needle = fold(query.trim())
  const found = needle ? documents.filter((d) => fold(d.title).includes(needle)) : [...documents]
  if (sort === 'title')
    return found.sort((a, b) => collator.compare(a.title, b.title) || a.id.localeCompare(b.id))
  return found.sort((a, b) => b.updated_at.localeCompare(a.updated_at) || a.id.localeCompare(b.id))
}

function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLocaleLowerCase()
}
