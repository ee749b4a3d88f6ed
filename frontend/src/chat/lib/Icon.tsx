// A few line icons as inline SVG (constant path data; decorative: the control carries the label).
const ICONS = {
  plus: <path d="M12 5v14M5 12h14" />,
  search: (
    <>
      <circle cx={11} cy={11} r={7} />
      <path d="M20 20l-3.6-3.6" />
    </>
  ),
  message: <path d="M4 5h16v11H9l-5 4z" />,
  users: (
    <>
      <circle cx={9} cy={8} r={3.5} />
      <path d="M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6M16 4.6a3.5 3.5 0 0 1 0 6.8M18 14.2c2 .7 3.5 2.7 3.5 5.8" />
    </>
  ),
  lock: (
    <>
      <rect x={5} y={11} width={14} height={9} rx={2} />
      <path d="M8 11V8a4 4 0 0 1 8 0v3" />
    </>
  ),
  hash: <path d="M10 4 8 20M16 4l-2 16M4.5 9h15M4 15h15" />,
  edit: <path d="M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4" />,
  trash: <path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" />,
  smile: (
    <>
      <circle cx={12} cy={12} r={8.5} />
      <path d="M8.5 14s1.3 2 3.5 2 3.5-2 3.5-2M9 9.5h.01M15 9.5h.01" />
    </>
  ),
  more: <path d="M5 12h.01M12 12h.01M19 12h.01" />,
  close: <path d="M6 6l12 12M18 6 6 18" />,
}

export type IconName = keyof typeof ICONS

export function Icon({ name }: { name: IconName }) {
  return (
    <svg viewBox="0 0 24 24" className={`icon icon-${name}`} aria-hidden="true" focusable="false">
      {ICONS[name]}
    </svg>
  )
}
