// The room menu (#room-menu): members, rename, (un)archive, leave or join; arrow keys move,
// Escape closes and gives the focus back to the button.
import { useEffect, useRef, useState } from 'react'

import { Icon } from '../lib/Icon'
import { useJoinRoom, useUpdateRoom } from '../rooms/queries'
import { errText } from './errors'
import type { RoomDialog } from './RoomDialogs'
import type { RoomController } from './RoomController'
import type { RoomInfo } from './useRoom'

interface Props {
  controller: RoomController
  info: RoomInfo
  onDialog: (dialog: RoomDialog) => void
}

export function RoomMenu({ controller, info, onDialog }: Props) {
  const [open, setOpen] = useState(false)
  const buttonRef = useRef<HTMLButtonElement>(null)
  const menuRef = useRef<HTMLUListElement>(null)
  const update = useUpdateRoom(controller.roomId)
  const join = useJoinRoom()
  const { room, isMember, isOwner, archived } = info
  const items: [string, string, () => void][] = [
    ['members', 'Members', () => controller.togglePanel({ kind: 'members' })],
  ]
  if (isOwner && room?.kind !== 'direct') {
    items.push(['rename', 'Rename room…', () => onDialog('rename')])
    items.push(
      archived
        ? [
            'unarchive',
            'Unarchive room',
            () =>
              update.mutate(
                { archived: false },
                { onError: (e) => controller.notice(errText(e), 'error', { code: 'archive' }) },
              ),
          ]
        : ['archive', 'Archive room…', () => onDialog('archive')],
    )
  }
  if (isMember)
    items.push([
      'leave',
      room?.kind === 'direct' ? 'Leave conversation…' : 'Leave room…',
      () => onDialog('leave'),
    ])
  else if (room?.kind !== 'private' && room?.kind !== 'direct') {
    items.push([
      'join',
      'Join room',
      () => join.mutate(controller.roomId, { onSuccess: () => controller.restartSocket() }),
    ])
  }

  useEffect(() => {
    if (!open) return
    menuRef.current?.querySelector('button')?.focus()
    const outside = (ev: PointerEvent) => {
      const t = ev.target as Node
      if (!menuRef.current?.contains(t) && !buttonRef.current?.contains(t)) setOpen(false)
    }
    document.addEventListener('pointerdown', outside, true)
    return () => document.removeEventListener('pointerdown', outside, true)
  }, [open])

  const close = (focusButton: boolean) => {
    setOpen(false)
    if (focusButton) buttonRef.current?.focus()
  }

  return (
    <>
      <button
        ref={buttonRef}
        id="room-menu-btn"
        type="button"
        className="icon-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? 'room-menu' : undefined}
        aria-label="Room options"
        title="Room options"
        onClick={() => setOpen((o) => !o)}
      >
        <Icon name="more" />
      </button>
      {open && (
        <ul
          ref={menuRef}
          id="room-menu"
          className="menu"
          role="menu"
          aria-label="Room options"
          onKeyDown={(ev) => {
            const buttons = [...(menuRef.current?.querySelectorAll('button') ?? [])]
            const i = buttons.indexOf(document.activeElement as HTMLButtonElement)
            if (ev.key === 'Escape') {
              ev.preventDefault()
              ev.stopPropagation()
              close(true)
            } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
              ev.preventDefault()
              const next = (i + (ev.key === 'ArrowDown' ? 1 : -1) + buttons.length) % buttons.length
              buttons[next]?.focus()
            } else if (ev.key === 'Tab') close(false)
          }}
        >
          {items.map(([action, label, run]) => (
            <li key={action} role="none">
              <button
                type="button"
                role="menuitem"
                data-action={action}
                tabIndex={-1}
                onClick={() => {
                  close(true)
                  run()
                }}
              >
                {label}
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  )
}
