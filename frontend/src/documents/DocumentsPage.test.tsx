import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeEach, describe, expect, it } from 'vitest'

import { FakeServer } from '../test/fakeServer'
import { renderPage } from '../test/render'
import { DocumentsPage } from './DocumentsPage'

const DOCS = [
  {
    id: 'd1',
    title: 'Roadmap',
    role: 'owner',
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-03-01T00:00:00Z',
  },
  {
    id: 'd2',
    title: 'Minutes',
    role: 'editor',
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-04-01T00:00:00Z',
  },
]

let server: FakeServer

beforeEach(() => {
  server = new FakeServer().on('GET /api/documents', () => ({ body: DOCS }))
  server.install()
})

const titles = () =>
  within(screen.getByRole('list', { name: 'Your documents' }))
    .queryAllByRole('link')
    .map((a) => a.textContent)

describe('DocumentsPage', () => {
  it('lists documents, most recent first, and searches and sorts them', async () => {
    const user = userEvent.setup()
    const agenda = { ...DOCS[1], id: 'd3', title: 'agenda', updated_at: '2026-01-01T00:00:00Z' }
    server.on('GET /api/documents', () => ({ body: [...DOCS, agenda] }))
    renderPage(<DocumentsPage />)
    await waitFor(() => expect(titles()).toEqual(['Minutes', 'Roadmap', 'agenda']))
    await user.selectOptions(screen.getByLabelText('Sort'), 'title')
    expect(titles()).toEqual(['agenda', 'Minutes', 'Roadmap'])
    await user.type(screen.getByLabelText('Search documents by title'), 'road')
    expect(titles()).toEqual(['Roadmap'])
    await user.clear(screen.getByLabelText('Search documents by title'))
    await user.type(screen.getByLabelText('Search documents by title'), 'zzz')
    expect(screen.getByText('No document title contains “zzz”.')).toBeInTheDocument()
  })

  it('offers delete to owners only, asks first, and puts the row back when the server refuses', async () => {
    const user = userEvent.setup()
    let answer: { status: number; body: unknown } = {
      status: 503,
      body: { detail: 'the database is unavailable', code: 'database_unavailable' },
    }
    server.on('DELETE /api/documents/d1', () => answer)
    renderPage(<DocumentsPage />)
    await waitFor(() => expect(titles()).toHaveLength(2))
    expect(screen.queryByRole('button', { name: 'Delete Minutes' })).toBeNull()

    await user.click(screen.getByRole('button', { name: 'Delete Roadmap' }))
    const dialog = screen.getByRole('dialog', { name: 'Delete this document?' })
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('the database is unavailable')
    await waitFor(() => expect(titles()).toEqual(['Minutes', 'Roadmap']))

    answer = { status: 204, body: null }
    server.on('GET /api/documents', () => ({ body: DOCS.slice(1) }))
    await user.click(screen.getByRole('button', { name: 'Delete Roadmap' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }))
    await waitFor(() => expect(titles()).toEqual(['Minutes']))
    expect(server.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2)
  })

  it('keeps the create form within the title limit and shows its errors beside it', async () => {
    const user = userEvent.setup()
    server.on('POST /api/documents', () => ({
      status: 400,
      body: { detail: 'title is too long', code: 'invalid_title' },
    }))
    renderPage(<DocumentsPage />)
    const input = screen.getByLabelText('New document title')
    expect(input).toHaveAttribute('maxlength', '300')
    await user.type(input, 'x')
    await user.click(screen.getByRole('button', { name: 'New document' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('title is too long')
  })
})
