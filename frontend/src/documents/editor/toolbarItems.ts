import type { ChainedCommands, Editor } from '@tiptap/core'

export interface ToolbarItem {
  action: string
  label: string
  title: string
  run: (chain: ChainedCommands, editor: Editor) => ChainedCommands | null
  active?: (editor: Editor) => boolean
}

function promptLink(editor: Editor, chain: ChainedCommands): ChainedCommands | null {
  const previous = (editor.getAttributes('link').href as string | undefined) ?? ''
  const url = window.prompt('Link URL (leave empty to remove the link)', previous || 'https://')
  if (url === null) return null
  if (url.trim() === '' || url.trim() === 'https://') return chain.extendMarkRange('link').unsetLink()
  return chain.extendMarkRange('link').setLink({ href: url.trim() })
}

function promptImage(chain: ChainedCommands): ChainedCommands | null {
  const src = window.prompt('Image URL')
  return src?.trim() ? chain.setImage({ src: src.trim() }) : null
}

/** Groups of buttons (a separator between groups). Undo and redo are separate: they follow the undo stack. */
export const TOOLBAR_GROUPS: ToolbarItem[][] = [
  [
    {
      action: 'bold',
      label: 'B',
      title: 'Bold (Ctrl+B)',
      run: (c) => c.toggleBold(),
      active: (e) => e.isActive('bold'),
    },
    {
      action: 'italic',
      label: 'I',
      title: 'Italic (Ctrl+I)',
      run: (c) => c.toggleItalic(),
      active: (e) => e.isActive('italic'),
    },
    {
      action: 'underline',
      label: 'U',
      title: 'Underline (Ctrl+U)',
      run: (c) => c.toggleUnderline(),
      active: (e) => e.isActive('underline'),
    },
    {
      action: 'strike',
      label: 'S',
      title: 'Strikethrough',
      run: (c) => c.toggleStrike(),
      active: (e) => e.isActive('strike'),
    },
    {
      action: 'code',
      label: '</>',
      title: 'Inline code',
      run: (c) => c.toggleCode(),
      active: (e) => e.isActive('code'),
    },
  ],
  [1, 2, 3].map((level) => ({
    action: `h${level}`,
    label: `H${level}`,
    title: `Heading ${level}`,
    run: (c: ChainedCommands) => c.toggleHeading({ level: level as 1 | 2 | 3 }),
    active: (e: Editor) => e.isActive('heading', { level }),
  })),
  [
    {
      action: 'bullet-list',
      label: '• List',
      title: 'Bullet list',
      run: (c) => c.toggleBulletList(),
      active: (e) => e.isActive('bulletList'),
    },
    {
      action: 'ordered-list',
      label: '1. List',
      title: 'Numbered list',
      run: (c) => c.toggleOrderedList(),
      active: (e) => e.isActive('orderedList'),
    },
    {
      action: 'task-list',
      label: '☑ Tasks',
      title: 'Task list',
      run: (c) => c.toggleTaskList(),
      active: (e) => e.isActive('taskList'),
    },
    {
      action: 'blockquote',
      label: '❝',
      title: 'Quote',
      run: (c) => c.toggleBlockquote(),
      active: (e) => e.isActive('blockquote'),
    },
    {
      action: 'code-block',
      label: '{ }',
      title: 'Code block',
      run: (c) => c.toggleCodeBlock(),
      active: (e) => e.isActive('codeBlock'),
    },
  ],
  [
    {
      action: 'link',
      label: 'Link',
      title: 'Insert or edit link',
      run: (c, e) => promptLink(e, c),
      active: (e) => e.isActive('link'),
    },
    { action: 'image', label: 'Image', title: 'Insert image from URL', run: (c) => promptImage(c) },
    {
      action: 'table',
      label: 'Table',
      title: 'Insert a 3×3 table',
      run: (c) => c.insertTable({ rows: 3, cols: 3, withHeaderRow: true }),
    },
  ],
]
