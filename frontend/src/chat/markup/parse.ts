// Parser for the small chat markup of docs/chat.md: a body becomes a plain data tree (no DOM,
// no React), which Markup.tsx renders. Any HTML in a body stays text.
//
//   **bold**  *italic*  `code`  ~~strike~~  ```fenced blocks```  > quote lines
//   bare http(s):// links  @mentions      (no [text](url) syntax)

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'strong' | 'em' | 'del'; c: Inline[] }
  | { t: 'link'; href: string; v: string }
  | { t: 'mention'; user: string }

export type Block =
  | { t: 'p'; c: Inline[] } // lines of text; line breaks are '\n' text nodes
  | { t: 'quote'; c: Inline[] }
  | { t: 'pre'; v: string; lang: string }

const MAX_DEPTH = 4 // nesting of bold/italic/strike
const URL_START = /^https?:\/\//i
// Django usernames: letters, digits and @ . + - _ (we stop at '@' so "@a@b" is one mention "a").
const MENTION = /^@([A-Za-z0-9_.+-]{1,150})/
const WORD_CHAR = /[\p{L}\p{N}_]/u

/** Is `href` (already absolute) an http(s) URL? Returns the normalised form or null. */
export function safeHref(raw: string): string | null {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (!url.hostname) return null
  return url.href
}

/** The length of the bare URL starting at `i` (0 if none), trailing punctuation excluded. */
function linkLength(text: string, i: number): number {
  if (!URL_START.test(text.slice(i, i + 8))) return 0
  let end = i
  while (
    end < text.length &&
    !/\s/.test(text[end]) &&
    text[end] !== '<' &&
    text[end] !== '>' &&
    text[end] !== '`'
  )
    end++
  // Drop trailing punctuation that usually ends the sentence, keeping balanced parentheses.
  for (;;) {
    const last = text[end - 1]
    if ('.,;:!?\'"*~_'.includes(last)) {
      end--
      continue
    }
    if (last === ')') {
      const part = text.slice(i, end)
      const open = part.split('(').length - 1
      const close = part.split(')').length - 1
      if (close > open) {
        end--
        continue
      }
    }
    break
  }
  const scheme = text
    .slice(i, i + 8)
    .toLowerCase()
    .startsWith('https')
    ? 8
    : 7
  return end - i > scheme ? end - i : 0
}

interface Delim {
  open: string
  kind: 'strong' | 'em' | 'del'
}
const DELIMS: Delim[] = [
  { open: '**', kind: 'strong' },
  { open: '~~', kind: 'del' },
  { open: '*', kind: 'em' },
]

const isSpace = (ch: string | undefined) => ch === undefined || /\s/.test(ch)

/** Find the closing delimiter for an opener at `from` (content starts there), or -1. */
function findClose(text: string, from: number, d: Delim): number {
  let j = text.indexOf(d.open, from + 1)
  while (j !== -1) {
    const validBefore = !isSpace(text[j - 1])
    // A single '*' must not be half of a '**'.
    const single = d.open !== '*' || (text[j + 1] !== '*' && text[j - 1] !== '*')
    if (validBefore && single) {
      // '***x***': the closing '**' is the last two of the run, leaving '*x*' inside.
      if (d.open === '**') while (text[j + 2] === '*') j++
      return j
    }
    j = text.indexOf(d.open, j + 1)
  }
  return -1
}

/** Parse one line (or run of text without block syntax) into inline nodes. */
export function parseInline(text: string, depth = 0): Inline[] {
  const out: Inline[] = []
  let buf = ''
  const flush = () => {
    if (buf) out.push({ t: 'text', v: buf })
    buf = ''
  }
  // Once a closer search for a delimiter fails, later openers of it cannot succeed either.
  const hopeless = new Set<string>()
  let codeHopeless = false
  let i = 0
  while (i < text.length) {
    const ch = text[i]
    const prev = i > 0 ? text[i - 1] : undefined

    if (ch === '`' && !codeHopeless) {
      const j = text.indexOf('`', i + 1)
      if (j === -1) codeHopeless = true
      else if (j > i + 1) {
        flush()
        out.push({ t: 'code', v: text.slice(i + 1, j) })
        i = j + 1
        continue
      }
    }

    if ((ch === 'h' || ch === 'H') && (prev === undefined || !WORD_CHAR.test(prev))) {
      const n = linkLength(text, i)
      if (n) {
        const raw = text.slice(i, i + n)
        const href = safeHref(raw)
        if (href) {
          flush()
          out.push({ t: 'link', href, v: raw })
          i += n
          continue
        }
      }
    }

    if (ch === '@' && (prev === undefined || !(WORD_CHAR.test(prev) || prev === '@'))) {
      const m = MENTION.exec(text.slice(i, i + 152))
      if (m) {
        const user = m[1].replace(/[.+-]+$/, '') // "@bob." at the end of a sentence
        if (user) {
          flush()
          out.push({ t: 'mention', user })
          i += 1 + user.length
          continue
        }
      }
    }

    if ((ch === '*' || ch === '~') && depth < MAX_DEPTH) {
      let matched = false
      for (const d of DELIMS) {
        if (!text.startsWith(d.open, i) || hopeless.has(d.open)) continue
        const start = i + d.open.length
        // The content must start right after the opener with a non-space ('* a*' is no italic),
        // and a lone '*' must not be the start of '**' that failed to match.
        if (isSpace(text[start]) || (d.open === '*' && text[start] === '*')) continue
        const close = findClose(text, start - 1, d)
        if (close === -1) {
          hopeless.add(d.open)
          continue
        }
        if (close <= start) continue
        flush()
        out.push({ t: d.kind, c: parseInline(text.slice(start, close), depth + 1) })
        i = close + d.open.length
        matched = true
        break
      }
      if (matched) continue
    }

    buf += ch
    i++
  }
  flush()
  return out
}

const FENCE = /^\s*```/

/** Parse a whole message body into blocks. */
export function parseMarkup(body: string): Block[] {
  const lines = body.replace(/\r\n?/g, '\n').split('\n')
  const blocks: Block[] = []
  let para: string[] = []
  let quote: string[] = []
  const flushPara = () => {
    if (para.length) blocks.push({ t: 'p', c: joinLines(para) })
    para = []
  }
  const flushQuote = () => {
    if (quote.length) blocks.push({ t: 'quote', c: joinLines(quote) })
    quote = []
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (FENCE.test(line)) {
      // A fence opens a code block only if it is closed later; otherwise it is text.
      const closeAt = lines.findIndex((l, k) => k > i && /^\s*```\s*$/.test(l))
      const rest = line.replace(FENCE, '')
      // ```code``` on one line
      const inlineEnd = rest.lastIndexOf('```')
      if (inlineEnd !== -1 && rest.trim().endsWith('```') && inlineEnd > 0) {
        flushPara()
        flushQuote()
        blocks.push({ t: 'pre', v: rest.slice(0, inlineEnd), lang: '' })
        continue
      }
      if (closeAt !== -1) {
        flushPara()
        flushQuote()
        const lang = /^[A-Za-z0-9_+.#-]{1,20}$/.test(rest.trim()) ? rest.trim() : ''
        const first = lang || !rest.trim() ? [] : [rest]
        blocks.push({ t: 'pre', v: [...first, ...lines.slice(i + 1, closeAt)].join('\n'), lang })
        i = closeAt
        continue
      }
    }
    const q = /^>\s?(.*)$/.exec(line)
    if (q) {
      flushPara()
      quote.push(q[1])
      continue
    }
    flushQuote()
    para.push(line)
  }
  flushPara()
  flushQuote()
  // Drop blank lines at the very start and end of text blocks (they only add height).
  return blocks.filter((b) => b.t !== 'p' || b.c.some((n) => n.t !== 'text' || n.v.trim() !== ''))
}

function joinLines(lines: string[]): Inline[] {
  // Trim leading/trailing empty lines, keep the inner ones.
  let a = 0
  let b = lines.length
  while (a < b && !lines[a].trim()) a++
  while (b > a && !lines[b - 1].trim()) b--
  const out: Inline[] = []
  lines.slice(a, b).forEach((line, k) => {
    if (k) out.push({ t: 'text', v: '\n' })
    out.push(...parseInline(line))
  })
  return out
}
