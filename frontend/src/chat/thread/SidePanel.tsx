// The side panel (#chat-panel): one thread or the member list. It takes the focus when it
// opens, gives it back when it closes, and Escape closes it (not while editing in it).
import { useEffect, useRef, type ReactNode } from 'react'

import { MembersPanel } from '../members/MembersPanel'
import { Icon } from '../lib/Icon'
import type { PanelContent, RoomController } from '../room/RoomController'
import type { RoomInfo } from '../room/useRoom'
import { ThreadPanel } from './ThreadPanel'

interface Props {
  controller: RoomController
  info: RoomInfo
  content: NonNullable<PanelContent>
}

export function SidePanel({ controller, info, content }: Props) {
  const ref = useRef<HTMLElement>(null)
  const close = () => controller.togglePanel(null)
  const shown = content.kind === 'thread' ? content.parentId : content.kind
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    const panel = ref.current
    if (panel && !panel.contains(document.activeElement)) {
      panel.querySelector<HTMLElement>('textarea:not([disabled]), input, .panel-close')?.focus()
    }
    return () => {
      if (opener?.isConnected && opener !== document.body) opener.focus()
      else document.getElementById('composer-input')?.focus()
    }
  }, [shown])
  const titleId = content.kind === 'thread' ? 'thread-title' : 'members-title'
  return (
    <section
      ref={ref}
      id="chat-panel"
      className="chat-panel"
      aria-labelledby={titleId}
      data-parent-id={content.kind === 'thread' ? content.parentId : undefined}
      onKeyDown={(ev) => {
        if (ev.key === 'Escape' && !(ev.target as HTMLElement).closest('.msg-edit, .emoji-picker')) {
          ev.preventDefault()
          close()
        }
      }}
    >
      {content.kind === 'thread' ? (
        <ThreadPanel controller={controller} info={info} parentId={content.parentId}>
          <PanelHead title="Thread" id={titleId} onClose={close} />
        </ThreadPanel>
      ) : (
        <MembersPanel controller={controller} info={info}>
          <PanelHead title="Members" id={titleId} onClose={close} />
        </MembersPanel>
      )}
    </section>
  )
}

function PanelHead({ title, id, onClose }: { title: string; id: string; onClose: () => void }): ReactNode {
  return (
    <header className="panel-head">
      <h2 id={id}>{title}</h2>
      <button
        type="button"
        className="icon-button panel-close"
        aria-label={`Close ${title.toLowerCase()}`}
        title="Close (Esc)"
        onClick={onClose}
      >
        <Icon name="close" />
      </button>
    </header>
  )
}
