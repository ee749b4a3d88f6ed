import { useEditorState, type Editor } from '@tiptap/react'
import { Fragment, useRef } from 'react'

import { useRovingFocus } from '../../shared/useRovingFocus'
import { TOOLBAR_GROUPS, type ToolbarItem } from './toolbarItems'
import { useUndoRedo } from './useUndoRedo'

function ToolbarButton({
  editor,
  item,
  active,
  disabled,
}: {
  editor: Editor
  item: ToolbarItem
  active: boolean
  disabled: boolean
}) {
  return (
    <button
      type="button"
      className={active ? 'tb is-active' : 'tb'}
      data-action={item.action}
      title={item.title}
      aria-label={item.title}
      aria-pressed={active}
      disabled={disabled}
      // Keep the editor's selection: the button must not take focus on mousedown.
      onMouseDown={(event) => event.preventDefault()}
      onClick={() => item.run(editor.chain().focus(), editor)?.run()}
    >
      {item.label}
    </button>
  )
}

/**
 * Undo or redo on its own, then give the editor its focus back. Chained with focus() (as the
 * other buttons are), the Yjs undo ran inside the chain's transaction and was recorded as a new
 * change: the text went away but nothing could be redone.
 */
function undoThenFocus(editor: Editor, command: 'undo' | 'redo'): void {
  if (command === 'undo') editor.commands.undo()
  else editor.commands.redo()
  editor.commands.focus()
}

export function Toolbar({ editor }: { editor: Editor }) {
  const active = useEditorState({
    editor,
    selector: ({ editor: current }) =>
      TOOLBAR_GROUPS.flat().map((item) => (item.active ? item.active(current) : false)),
    equalityFn: (a, b) => b !== null && a.length === b.length && a.every((value, i) => value === b[i]),
  })
  const editable = useEditorState({ editor, selector: ({ editor: current }) => current.isEditable })
  const { canUndo, canRedo } = useUndoRedo(editor)
  const toolbar = useRef<HTMLDivElement>(null)
  useRovingFocus(toolbar)
  let index = 0
  return (
    <div id="toolbar" className="toolbar" role="toolbar" aria-label="Formatting" ref={toolbar}>
      {TOOLBAR_GROUPS.map((group, groupIndex) => (
        <Fragment key={group[0].action}>
          {groupIndex > 0 && <span className="sep" aria-hidden="true" />}
          {group.map((item) => {
            const isActive = active[index++] ?? false
            return (
              <ToolbarButton
                key={item.action}
                editor={editor}
                item={item}
                active={isActive}
                disabled={!editable}
              />
            )
          })}
        </Fragment>
      ))}
      <span className="sep" aria-hidden="true" />
      <button
        type="button"
        className="tb"
        data-action="undo"
        title="Undo (Ctrl+Z)"
        aria-label="Undo (Ctrl+Z)"
        disabled={!canUndo}
        onMouseDown={(event) => event.preventDefault()}
        onClick={() => undoThenFocus(editor, 'undo')}
      >
        ↶
      </button>
      <button
        type="button"
        className="tb"
        data-action="redo"
        title="Redo (Ctrl+Shift+Z)"
        aria-label="Redo (Ctrl+Shift+Z)"
        disabled={!canRedo}
        onMouseDown={(event) => event.preventDefault()}
        onClick={() => undoThenFocus(editor, 'redo')}
      >
        ↷
      </button>
    </div>
  )
}
