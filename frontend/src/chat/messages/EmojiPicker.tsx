import { useEffect, useRef } from 'react'

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '👀', '✅', '🙏', '😮']

/** A small popover with the quick emoji set; Escape or a click outside closes it. */
export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    ref.current?.querySelector('button')?.focus()
    const outside = (ev: PointerEvent) => {
      if (!ref.current?.contains(ev.target as Node) && ev.target !== opener) onClose()
    }
    document.addEventListener('pointerdown', outside, true)
    return () => {
      document.removeEventListener('pointerdown', outside, true)
      if (opener?.isConnected) opener.focus()
    }
  }, [onClose])
  return (
    <div
      ref={ref}
      className="emoji-picker"
      role="dialog"
      aria-label="Add a reaction"
      onKeyDown={(ev) => {
        if (ev.key === 'Escape') {
          ev.stopPropagation()
          onClose()
        }
      }}
    >
      {QUICK_REACTIONS.map((e) => (
        <button
          key={e}
          type="button"
          className="emoji-option"
          data-emoji={e}
          aria-label={`React with ${e}`}
          onClick={() => {
            onPick(e)
            onClose()
          }}
        >
          {e}
        </button>
      ))}
    </div>
  )
}
