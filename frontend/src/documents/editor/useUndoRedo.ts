import type { Editor } from '@tiptap/core'
import { useEffect, useState } from 'react'
import { yUndoPluginKey } from 'y-prosemirror'

interface UndoManagerLike {
  undoStack: unknown[]
  redoStack: unknown[]
  on: (event: string, listener: () => void) => void
  off: (event: string, listener: () => void) => void
}

const STACK_EVENTS = ['stack-item-added', 'stack-item-popped', 'stack-cleared', 'stack-item-updated']

/**
 * Whether undo and redo can run now. Read from the Yjs undo manager's own events: it pushes
 * onto its stacks after the transaction that ProseMirror sees, so reading on editor
 * transactions alone would leave Redo disabled until the next keystroke.
 */
export function useUndoRedo(editor: Editor | null): { canUndo: boolean; canRedo: boolean } {
  const [state, setState] = useState({ canUndo: false, canRedo: false })
  useEffect(() => {
    if (!editor) return
    const pluginState = yUndoPluginKey.getState(editor.state) as { undoManager?: UndoManagerLike } | undefined
    const manager = pluginState?.undoManager
    if (!manager) return
    const update = () => {
      const editable = editor.isEditable
      const next = {
        canUndo: editable && manager.undoStack.length > 0,
        canRedo: editable && manager.redoStack.length > 0,
      }
      setState((current) =>
        current.canUndo === next.canUndo && current.canRedo === next.canRedo ? current : next,
      )
    }
    for (const event of STACK_EVENTS) manager.on(event, update)
    editor.on('transaction', update)
    update()
    return () => {
      for (const event of STACK_EVENTS) manager.off(event, update)
      editor.off('transaction', update)
    }
  }, [editor])
  return state
}
