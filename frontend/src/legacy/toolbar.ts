import type { ChainedCommands, Editor } from '@tiptap/core'
import { h } from './dom'

interface Item {
  action: string
  label: string
  title: string
  run: (c: ChainedCommands, editor: Editor) => ChainedCommands | null
  active?: (e: Editor) => boolean
  enabled?: (e: Editor) => boolean
}

const SEP = 'sep'

function promptLink(editor: Editor, c: ChainedCommands): ChainedCommands | null {
  const previous = (editor.getAttributes('link').href as string | undefined) ?? ''
  const url = window.prompt('Link URL (leave empty to remove the link)', previous || 'https://')
  if (url === null) return null
  if (url.trim() === '' || url.trim() === 'https://') return c.extendMarkRange('link').unsetLink()
  return c.extendMarkRange('link').setLink({ href: url.trim() })
}

const items: (Item | typeof SEP)[] = [
  { action: 'bold', label: 'B', title: 'Bold (Ctrl+B)', run: (c) => c.toggleBold(), active: (e) => e.isActive('bold') },
  { action: 'italic', label: 'I', title: 'Italic (Ctrl+I)', run: (c) => c.toggleItalic(), active: (e) => e.isActive('italic') },
  { action: 'underline', label: 'U', title: 'Underline (Ctrl+U)', run: (c) => c.toggleUnderline(), active: (e) => e.isActive('underline') },
  { action: 'strike', label: 'S', title: 'Strikethrough', run: (c) => c.toggleStrike(), active: (e) => e.isActive('strike') },
  { action: 'code', label: '</>', title: 'Inline code', run: (c) => c.toggleCode(), active: (e) => e.isActive('code') },
  SEP,
  { action: 'h1', label: 'H1', title: 'Heading 1', run: (c) => c.toggleHeading({ level: 1 }), active: (e) => e.isActive('heading', { level: 1 }) },
  { action: 'h2', label: 'H2', title: 'Heading 2', run: (c) => c.toggleHeading({ level: 2 }), active: (e) => e.isActive('heading', { level: 2 }) },
  { action: 'h3', label: 'H3', title: 'Heading 3', run: (c) => c.toggleHeading({ level: 3 }), active: (e) => e.isActive('heading', { level: 3 }) },
  SEP,
  { action: 'bullet-list', label: '• List', title: 'Bullet list', run: (c) => c.toggleBulletList(), active: (e) => e.isActive('bulletList') },
  { action: 'ordered-list', label: '1. List', title: 'Numbered list', run: (c) => c.toggleOrderedList(), active: (e) => e.isActive('orderedList') },
  { action: 'task-list', label: '☑ Tasks', title: 'Task list', run: (c) => c.toggleTaskList(), active: (e) => e.isActive('taskList') },
  { action: 'blockquote', label: '❝', title: 'Quote', run: (c) => c.toggleBlockquote(), active: (e) => e.isActive('blockquote') },
  { action: 'code-block', label: '{ }', title: 'Code block', run: (c) => c.toggleCodeBlock(), active: (e) => e.isActive('codeBlock') },
  SEP,
  { action: 'link', label: 'Link', title: 'Insert or edit link', run: (c, e) => promptLink(e, c), active: (e) => e.isActive('link') },
  {
    action: 'image',
    label: 'Image',
    title: 'Insert image from URL',
    run: (c) => {
      const src = window.prompt('Image URL')
      return src && src.trim() ? c.setImage({ src: src.trim() }) : null
    },
  },
  {
    action: 'table',
    label: 'Table',
    title: 'Insert a 3×3 table',
    run: (c) => c.insertTable({ rows: 3, cols: 3, withHeaderRow: true }),
  },
  SEP,
  { action: 'undo', label: '↶', title: 'Undo (Ctrl+Z)', run: (c) => c.undo(), enabled: (e) => e.can().undo() },
  { action: 'redo', label: '↷', title: 'Redo (Ctrl+Shift+Z)', run: (c) => c.redo(), enabled: (e) => e.can().redo() },
]

export function buildToolbar(editor: Editor): { element: HTMLElement; destroy: () => void } {
  const element = h('div', { id: 'toolbar', class: 'toolbar', role: 'toolbar', 'aria-label': 'Formatting' })
  const buttons: [HTMLButtonElement, Item][] = []
  for (const item of items) {
    if (item === SEP) {
      element.append(h('span', { class: 'sep', 'aria-hidden': 'true' }))
      continue
    }
    const btn = h(
      'button',
      { type: 'button', class: 'tb', 'data-action': item.action, title: item.title, 'aria-label': item.title },
      item.label,
    )
    // Keep the editor selection: don't let the button steal focus on mousedown.
    btn.addEventListener('mousedown', (ev) => ev.preventDefault())
    btn.addEventListener('click', () => {
      const chain = item.run(editor.chain().focus(), editor)
      chain?.run()
    })
    element.append(btn)
    buttons.push([btn, item])
  }

  const update = () => {
    const editable = editor.isEditable
    for (const [btn, item] of buttons) {
      const active = item.active ? item.active(editor) : false
      btn.classList.toggle('is-active', active)
      btn.setAttribute('aria-pressed', String(active))
      btn.disabled = !editable || (item.enabled ? !item.enabled(editor) : false)
    }
  }
  editor.on('transaction', update)
  editor.on('update', update)
  update()
  return {
    element,
    destroy: () => {
      editor.off('transaction', update)
      editor.off('update', update)
    },
  }
}
