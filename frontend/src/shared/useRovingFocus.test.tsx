import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useRef } from 'react'
import { describe, expect, it } from 'vitest'

import { useRovingFocus } from './useRovingFocus'

function Row() {
  const ref = useRef<HTMLDivElement>(null)
  useRovingFocus(ref)
  return (
    <>
      <button type="button">before</button>
      <div role="toolbar" aria-label="Formatting" ref={ref}>
        <button type="button">Bold</button>
        <button type="button" disabled>
          Italic
        </button>
        <button type="button">Link</button>
        <button type="button">Undo</button>
      </div>
      <button type="button">after</button>
    </>
  )
}

describe('useRovingFocus', () => {
  it('makes the row one Tab stop and moves with the arrow keys, Home and End', async () => {
    const user = userEvent.setup()
    render(<Row />)
    const button = (name: string) => screen.getByRole('button', { name })
    await user.click(button('before'))
    await user.tab()
    expect(button('Bold')).toHaveFocus()
    await user.tab()
    expect(button('after')).toHaveFocus() // the rest of the row is not in the Tab order

    await user.tab({ shift: true })
    expect(button('Bold')).toHaveFocus()
    await user.keyboard('{ArrowRight}')
    expect(button('Link')).toHaveFocus() // the disabled one is skipped
    await user.keyboard('{End}')
    expect(button('Undo')).toHaveFocus()
    await user.keyboard('{ArrowRight}')
    expect(button('Bold')).toHaveFocus() // wraps around
    await user.keyboard('{ArrowLeft}{ArrowLeft}')
    expect(button('Link')).toHaveFocus()

    await user.tab()
    await user.tab({ shift: true })
    expect(button('Link')).toHaveFocus() // back where it was left
  })
})
