import { render } from '@testing-library/react'
import { describe, expect, it } from 'vitest'

import { MARKUP_CASES } from './cases'
import { highlightPattern, Markup } from './Markup'
import { renderMarkup } from './renderMarkup'

const TAGS = new Set(['div', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'a', 'span'])
const ATTRS = new Set(['class', 'href', 'target', 'rel', 'data-user', 'data-lang'])

function html(body: string): string {
  const box = document.createElement('div')
  box.append(renderMarkup(body, { me: 'me' }))
  return box.innerHTML
}

describe('markup renderer', () => {
  it.each(MARKUP_CASES)('renders %j exactly as the browser test expects', (body, expected) => {
    expect(html(body)).toBe(expected)
  })

  it('builds only safe elements and attributes', () => {
    for (const [body] of MARKUP_CASES) {
      const box = document.createElement('div')
      box.append(renderMarkup(body, { me: 'me' }))
      for (const el of box.querySelectorAll('*')) {
        expect(TAGS).toContain(el.localName)
        for (const name of el.getAttributeNames()) expect(ATTRS).toContain(name)
      }
    }
  })

  it('keeps line breaks as text and marks the language of a fence', () => {
    expect(html('one\ntwo')).toBe('<div class="md-p">one\ntwo</div>')
    expect(html('```ts\nlet x\n```')).toBe('<pre class="md-pre"><code data-lang="ts">let x</code></pre>')
  })

  it('the component and the hook agree', () => {
    const { container } = render(<Markup body="**a** @me" me="me" />)
    expect(container.innerHTML).toBe(html('**a** @me'))
  })

  it('highlights search matches inside the rendered markup', () => {
    const { container } = render(
      <Markup body="the **deploy** went fine, Deploy again" highlight={highlightPattern(['deploy'])} />,
    )
    expect(container.querySelector('strong')?.innerHTML).toBe('<mark>deploy</mark>')
    expect(container.querySelectorAll('mark')).toHaveLength(2)
    expect(container.textContent).toBe('the deploy went fine, Deploy again')
  })

  it('escapes pattern characters in matched words', () => {
    expect(highlightPattern(['a.b', ' ', 'a.b'])?.source).toBe('(a\\.b)')
    expect(highlightPattern([])).toBeNull()
  })
})
