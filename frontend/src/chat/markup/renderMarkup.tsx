// renderMarkup(body, {me}) for window.__chat.markup (the browser tests): the very React
// rendering the messages use, flushed into a detached element and handed back as DOM nodes.
import { flushSync } from 'react-dom'
import { createRoot } from 'react-dom/client'

import { Markup } from './Markup'

export function renderMarkup(body: string, opts: { me?: string } = {}): DocumentFragment {
  const host = document.createElement('div')
  const root = createRoot(host)
  flushSync(() => root.render(<Markup body={body} me={opts.me} />))
  const fragment = document.createDocumentFragment()
  for (const node of Array.from(host.childNodes)) fragment.append(node.cloneNode(true))
  root.unmount()
  return fragment
}
