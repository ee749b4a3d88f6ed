import { render } from '@testing-library/react'
import { describe, expect, it } from 'vitest'

import type { Room } from '../api'
import { parseUsernames } from './DirectDialog'
import { ambiguousIds, RoomName } from './names'

const room = (id: number, name: string, kind: Room['kind'] = 'public', members?: string[]) => ({
  id,
  name,
  kind,
  members,
})

describe('rooms of the same name', () => {
  it('are told apart by their number; unique names and direct rooms are left alone', () => {
    const rooms = [
      room(1, 'general'),
      room(2, 'General '),
      room(3, 'random'),
      room(4, 'x', 'direct', ['me', 'bob']),
    ]
    expect([...ambiguousIds(rooms, 'me')].sort()).toEqual([1, 2])
    const { container } = render(<RoomName label="general" id={12} ambiguous />)
    expect(container.textContent).toBe('general #12')
    expect(render(<RoomName label="random" id={3} ambiguous={false} />).container.textContent).toBe('random')
  })
})

describe('the direct message dialog', () => {
  it('reads usernames separated by commas or spaces, without @, repeats or me', () => {
    expect(parseUsernames(' bob, @carol  dave,bob me', 'me')).toEqual(['bob', 'carol', 'dave'])
    expect(parseUsernames(' , ', 'me')).toEqual([])
  })
})
