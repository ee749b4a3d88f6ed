// The MARKUP_CASES of tests/e2e/test_chat_browser.py (the same bodies and the HTML expected).
export const MARKUP_CASES: [string, string][] = [
  [
    '**<img src=x onerror=alert(1)>**',
    '<div class="md-p"><strong>&lt;img src=x onerror=alert(1)&gt;</strong></div>',
  ],
  ['[x](javascript:alert(1))', '<div class="md-p">[x](javascript:alert(1))</div>'],
  ['javascript:alert(1) data:text/html,x', '<div class="md-p">javascript:alert(1) data:text/html,x</div>'],
  [
    '(see https://example.com/a_(b).)',
    '<div class="md-p">(see <a href="https://example.com/a_(b)" target="_blank" rel="noopener noreferrer" class="md-link">https://example.com/a_(b)</a>.)</div>',
  ],
  [
    'https://x.test/"onmouseover="alert(1)',
    '<div class="md-p"><a href="https://x.test/%22onmouseover=%22alert(1)" target="_blank" rel="noopener noreferrer" class="md-link">https://x.test/"onmouseover="alert(1)</a></div>',
  ],
  ['`<b>**x**</b>`', '<div class="md-p"><code>&lt;b&gt;**x**&lt;/b&gt;</code></div>'],
  [
    '*it* ~~gone~~ ***both***',
    '<div class="md-p"><em>it</em> <del>gone</del> <strong><em>both</em></strong></div>',
  ],
  ['a * b * c **open', '<div class="md-p">a * b * c **open</div>'],
  [
    '```\n<script>x()</script>\n```',
    '<pre class="md-pre"><code>&lt;script&gt;x()&lt;/script&gt;</code></pre>',
  ],
  [
    '> *quoted*\nplain',
    '<blockquote class="md-quote"><em>quoted</em></blockquote><div class="md-p">plain</div>',
  ],
  [
    '@me and @other, not mail@example.com',
    '<div class="md-p"><span class="mention mention-me" data-user="me">@me</span> and <span class="mention" data-user="other">@other</span>, not mail@example.com</div>',
  ],
]
