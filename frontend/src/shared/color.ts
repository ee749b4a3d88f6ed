/** Accept only simple CSS colours (#hex, rgb()/hsl()) before they go into a style attribute. */
export function safeColor(color: string | undefined | null, fallbackColor = '#5f6b7a'): string {
  if (!color) return fallbackColor
  const c = color.trim()
  if (/^#[0-9a-fA-F]{3,8}$/.test(c)) return c
  if (/^(rgb|rgba|hsl|hsla)\([0-9.,%\s/a-z-]+\)$/i.test(c)) return c
  return fallbackColor
}
