import { describe, expect, it } from 'vitest'

import { safeNext } from './queries'

describe('safeNext', () => {
  it.each([
    ['?next=/docs/x?y=1#z', '/docs/x?y=1#z'],
    ['?next=%2Fchat%2F3', '/chat/3'],
    ['', '/'],
    ['?next=docs', '/'],
    ['?next=//evil.example', '/'],
    ['?next=/\\evil.example', '/'],
    ['?next=/%09/evil.example', '/'],
    ['?next=https://evil.example/', '/'],
    ['?next=javascript:alert(1)', '/'],
  ])('%s → %s', (search, expected) => {
    expect(safeNext(search)).toBe(expected)
  })
})
