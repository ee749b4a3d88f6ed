import { EditorContent, useEditor } from '@tiptap/react'
import { useEffect } from 'react'

import type { Collaboration } from './collaboration'
import { editorExtensions, type CursorUser } from './extensions'
import { Toolbar } from './Toolbar'

interface Props {
  connection: Collaboration
  user: CursorUser
  readOnly: boolean
  /** False once the server closed the socket for good (the banner says why). */
  live: boolean
}

declare global {
  interface Window {
    __collab?: { editor: unknown; provider: unknown; ydoc: unknown; docId: string }
  }
}

export function DocumentEditor({ connection, user, readOnly, live }: Props) {
  const editor = useEditor(
    {
      extensions: editorExtensions(connection, user, readOnly),
      editable: !readOnly,
      editorProps: {
        attributes: {
          class: 'prose',
          role: 'textbox',
          'aria-multiline': 'true',
          'aria-label': 'Document editor',
          'aria-readonly': String(readOnly),
          spellcheck: 'true',
        },
      },
    },
    [connection, readOnly],
  )

  useEffect(() => {
    if (editor && !editor.isDestroyed) editor.setEditable(!readOnly && live)
  }, [editor, readOnly, live])

  useEffect(() => {
    if (!editor || readOnly) return
    // An empty document's first paragraph exists only in ProseMirror until someone types; the
    // typing then writes the paragraph into Yjs with the text, and undoing it makes ProseMirror
    // write an empty paragraph back as a new change, which empties the redo stack. So before the
    // first keystroke the empty paragraph goes into Yjs untracked (outside the undo history).
    const prime = () => {
      const fragment = connection.ydoc.getXmlFragment('default')
      if (fragment.length > 0 || !connection.provider.synced) return
      editor.chain().setMeta('addToHistory', false).insertContent(' ').run()
      editor.chain().setMeta('addToHistory', false).deleteRange({ from: 1, to: 2 }).run()
    }
    editor.on('focus', prime)
    return () => {
      editor.off('focus', prime)
    }
  }, [editor, connection, readOnly])

  useEffect(() => {
    if (!editor) return
    // For debugging and the end-to-end tests.
    const handle = {
      editor,
      provider: connection.provider,
      ydoc: connection.ydoc,
      docId: connection.documentId,
    }
    window.__collab = handle
    return () => {
      if (window.__collab === handle) delete window.__collab
    }
  }, [editor, connection])

  return (
    <>
      {!readOnly && editor && <Toolbar editor={editor} />}
      <EditorContent editor={editor} id="editor" className={readOnly ? 'editor readonly' : 'editor'} />
    </>
  )
}
