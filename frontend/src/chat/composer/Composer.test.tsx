import { fireEvent, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'

import type { Message } from '../api'
import { MessageStore } from '../messages/MessageStore'
import type { RoomController } from '../room/RoomController'
import { Composer } from './Composer'
import { counterFor } from './counter'

vi.mock('../../shared/people', () => ({ usePerson: () => undefined }))

function fakeController(lastOwn?: Partial<Message>) {
  const store = new MessageStore('me')
  if (lastOwn) {
    store.put(
      {
        id: 1,
        seq: 1,
        created_version: 1,
        version_seq: 1,
        client_id: 'c',
        author: 'me',
        body: 'mine',
        parent_id: null,
        created_at: '2026-01-01T00:00:00Z',
        edited_at: null,
        deleted: false,
        ...lastOwn,
      },
      false,
    )
  }
  const mocks = { post: vi.fn(), notice: vi.fn(), typingInput: vi.fn(), editStart: vi.fn() }
  const controller = {
    store,
    post: mocks.post,
    notice: mocks.notice,
    typing: { input: mocks.typingInput, stop: vi.fn() },
    edits: { start: mocks.editStart },
  } as unknown as RoomController
  return { controller, ...mocks }
}

const n = (x: number) => x.toLocaleString()

describe('Composer', () => {
  it('sends on Enter, adds a line on Shift+Enter, and empties itself', async () => {
    const { controller, ...mock } = fakeController()
    render(<Composer controller={controller} parentId={null} canPost placeholder="Message #x" />)
    const input = screen.getByRole('textbox', { name: 'Message' })
    await userEvent.type(input, 'hello{Shift>}{Enter}{/Shift}world')
    expect(input).toHaveValue('hello\nworld')
    expect(mock.post).not.toHaveBeenCalled()
    await userEvent.keyboard('{Enter}')
    expect(mock.post).toHaveBeenCalledWith('hello\nworld', null)
    expect(input).toHaveValue('')
    expect(mock.typingInput).toHaveBeenCalled()
  })

  it('does not send blank text', async () => {
    const { controller, ...mock } = fakeController()
    render(<Composer controller={controller} parentId={null} canPost placeholder="" />)
    await userEvent.type(screen.getByRole('textbox'), '   {Enter}')
    expect(mock.post).not.toHaveBeenCalled()
    expect(screen.getByRole('button', { name: 'Send message' })).toBeDisabled()
  })

  it('edits my last message on ↑ in an empty composer', async () => {
    const { controller, ...mock } = fakeController({})
    render(<Composer controller={controller} parentId={null} canPost placeholder="" />)
    screen.getByRole('textbox').focus()
    await userEvent.keyboard('{ArrowUp}')
    expect(mock.editStart).toHaveBeenCalledWith(expect.objectContaining({ id: 1 }), 'main')
  })

  it('shows the counter from 9,000 code points with the limit, and blocks sending over 10,000', () => {
    const { controller, ...mock } = fakeController()
    render(<Composer controller={controller} parentId={null} canPost placeholder="" />)
    const input = screen.getByRole('textbox')
    const counter = document.getElementById('composer-counter')
    fireEvent.change(input, { target: { value: 'x'.repeat(8999) } })
    expect(counter).not.toBeVisible()
    fireEvent.change(input, { target: { value: '😀'.repeat(9120) } }) // code points, not UTF-16 units
    expect(counter).toBeVisible()
    expect(counter).toHaveAttribute('data-count', '9120')
    expect(counter).toHaveTextContent(`${n(9120)} / ${n(10000)}`)
    fireEvent.change(input, { target: { value: 'x'.repeat(10_001) } })
    expect(counter).toHaveTextContent(`${n(10001)} / ${n(10000)} · 1 too long`)
    expect(counter).toHaveClass('over')
    expect(input).toHaveAttribute('aria-invalid', 'true')
    expect(screen.getByRole('button', { name: 'Send message' })).toBeDisabled()
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(mock.post).not.toHaveBeenCalled()
    expect(mock.notice).toHaveBeenCalledWith(expect.stringContaining('10,000'), 'error', {
      code: 'too_long',
    })
  })

  it('the thread reply box has its own ids and Escape closes the thread', async () => {
    const { controller, ...mock } = fakeController()
    const onEscape = vi.fn()
    render(<Composer controller={controller} parentId={5} canPost placeholder="Reply…" onEscape={onEscape} />)
    const input = screen.getByRole('textbox', { name: 'Reply' })
    expect(input).toHaveAttribute('id', 'thread-input')
    await userEvent.type(input, 'a reply{Enter}')
    expect(mock.post).toHaveBeenCalledWith('a reply', 5)
    await userEvent.keyboard('{Escape}')
    expect(onEscape).toHaveBeenCalled()
  })

  it('counterFor is hidden below 9,000', () => {
    expect(counterFor('abc')).toMatchObject({ count: 3, visible: false, over: false })
  })
})
