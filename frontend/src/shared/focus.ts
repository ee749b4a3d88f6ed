/**
 * Put the keyboard focus on the page's main region when it has nowhere to be (the element that
 * had it was removed, or a new page replaced the old one), so the next Tab starts in the content
 * rather than at the top of the document.
 */
export function focusMainIfLost(): void {
  const active = document.activeElement
  if (active && active !== document.body && active.isConnected) return
  const main = document.getElementById('main')
  if (!main) return
  if (!main.hasAttribute('tabindex')) main.setAttribute('tabindex', '-1')
  main.focus({ preventScroll: true })
}
