import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCursor from '@tiptap/extension-collaboration-cursor'
import Image from '@tiptap/extension-image'
import Link from '@tiptap/extension-link'
import Table from '@tiptap/extension-table'
import TableCell from '@tiptap/extension-table-cell'
import TableHeader from '@tiptap/extension-table-header'
import TableRow from '@tiptap/extension-table-row'
import TaskItem from '@tiptap/extension-task-item'
import TaskList from '@tiptap/extension-task-list'
import Underline from '@tiptap/extension-underline'
import type { Extensions } from '@tiptap/react'
import StarterKit from '@tiptap/starter-kit'

import { safeColor } from '../../shared/color'
import type { Collaboration as Connection } from './collaboration'

export interface CursorUser {
  name: string
  color: string
}

/** Another person's caret: built from DOM nodes with text only (names are user data). */
function renderCaret(user: { name?: string; color?: string }): HTMLElement {
  const color = safeColor(user.color)
  const caret = document.createElement('span')
  caret.className = 'collaboration-cursor__caret'
  caret.style.borderColor = color
  const label = document.createElement('div')
  label.className = 'collaboration-cursor__label'
  label.style.backgroundColor = color
  label.textContent = user.name ?? '?'
  caret.append(label)
  return caret
}

export function editorExtensions(connection: Connection, user: CursorUser, readOnly: boolean): Extensions {
  return [
    // Undo and redo come from the Collaboration extension (the Yjs UndoManager).
    StarterKit.configure({ history: false }),
    Underline,
    Link.configure({ openOnClick: readOnly, autolink: true, defaultProtocol: 'https' }),
    TaskList,
    TaskItem.configure({ nested: true }),
    Table.configure({ resizable: false }),
    TableRow,
    TableHeader,
    TableCell,
    Image,
    Collaboration.configure({ document: connection.ydoc }),
    CollaborationCursor.configure({ provider: connection.provider, user, render: renderCaret }),
  ]
}
