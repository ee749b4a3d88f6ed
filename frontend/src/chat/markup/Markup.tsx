// Renders a message body (parse.ts) as React elements: text is always text (never innerHTML),
// links are http(s) only and open with rel="noopener noreferrer", mentions of the signed-in
// user get `mention-me`. `highlight` marks search matches inside the rendered text.
import { Fragment, type ReactNode } from 'react'

import { parseMarkup, safeHref, type Inline } from './parse'

interface Options {
  me?: string
  highlight?: RegExp | null
}

function marked(text: string, highlight: RegExp | null | undefined): ReactNode {
  if (!highlight) return text
  const parts = text.split(highlight)
  if (parts.length === 1) return text
  // split() with one capturing group puts the matches at the odd indexes.
  return parts.map((part, i) => (i % 2 ? <mark key={i}>{part}</mark> : part))
}

function InlineNodes({ nodes, me, highlight }: Options & { nodes: Inline[] }): ReactNode {
  return nodes.map((n, i) => {
    switch (n.t) {
      case 'text':
        return <Fragment key={i}>{marked(n.v, highlight)}</Fragment>
      case 'code':
        return <code key={i}>{marked(n.v, highlight)}</code>
      case 'strong':
      case 'em':
      case 'del': {
        const Tag = n.t
        return (
          <Tag key={i}>
            <InlineNodes nodes={n.c} me={me} highlight={highlight} />
          </Tag>
        )
      }
      case 'link': {
        const href = safeHref(n.href) // checked again: the tree might not come from parseInline
        if (!href) return <Fragment key={i}>{n.v}</Fragment>
        return (
          <a key={i} href={href} target="_blank" rel="noopener noreferrer" className="md-link">
            {marked(n.v, highlight)}
          </a>
        )
      }
      case 'mention': {
        const mine = !!me && n.user.toLowerCase() === me.toLowerCase()
        return (
          <span key={i} className={mine ? 'mention mention-me' : 'mention'} data-user={n.user}>
            {'@' + n.user}
          </span>
        )
      }
    }
  })
}

/** The blocks of one body, without a wrapper (the caller puts them in `.msg-body`). */
export function Markup({ body, me, highlight }: Options & { body: string }) {
  return parseMarkup(body).map((b, i) => {
    if (b.t === 'pre') {
      return (
        <pre key={i} className="md-pre">
          <code data-lang={b.lang || undefined}>{marked(b.v, highlight)}</code>
        </pre>
      )
    }
    const content = <InlineNodes nodes={b.c} me={me} highlight={highlight} />
    return b.t === 'quote' ? (
      <blockquote key={i} className="md-quote">
        {content}
      </blockquote>
    ) : (
      <div key={i} className="md-p">
        {content}
      </div>
    )
  })
}

/** A case-insensitive pattern for the matched words of a search snippet (null without any). */
export function highlightPattern(words: string[]): RegExp | null {
  const unique = [...new Set(words.map((w) => w.trim()).filter((w) => w.length > 0))]
  if (!unique.length) return null
  unique.sort((a, b) => b.length - a.length) // the longest first: "testing" before "test"
  const escaped = unique.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`(${escaped.join('|')})`, 'giu')
}
