import { fireEvent, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'

import { ConfirmDialog } from './Dialog'

function Harness({ onConfirm }: { onConfirm: () => void }) {
  const [open, setOpen] = useState(false)
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Delete…
      </button>
      <ConfirmDialog
        open={open}
        title="Delete this?"
        message={<p>It cannot be undone.</p>}
        confirmLabel="Delete"
        onConfirm={() => {
          onConfirm()
          setOpen(false)
        }}
        onClose={() => setOpen(false)}
      />
    </>
  )
}

describe('ConfirmDialog', () => {
  it('takes the focus, gives it back when closed, and confirms only on its button', async () => {
    const user = userEvent.setup()
    let confirmed = 0
    render(<Harness onConfirm={() => (confirmed += 1)} />)
    const opener = screen.getByRole('button', { name: 'Delete…' })
    await user.click(opener)
    const dialog = screen.getByRole('dialog', { name: 'Delete this?' })
    expect(screen.getByRole('button', { name: 'Cancel' })).toHaveFocus()

    fireEvent(dialog, new Event('cancel', { cancelable: true })) // what Escape does
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(opener).toHaveFocus()

    await user.click(opener)
    fireEvent.click(screen.getByRole('dialog'), { clientX: 5000, clientY: 5000 }) // the backdrop
    expect(screen.queryByRole('dialog')).toBeNull()

    await user.click(opener)
    await user.click(screen.getByRole('button', { name: 'Delete' }))
    expect(confirmed).toBe(1)
    expect(screen.queryByRole('dialog')).toBeNull()
  })
})
