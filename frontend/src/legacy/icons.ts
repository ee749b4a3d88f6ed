// A few line icons as inline SVG (built with createElementNS from constant path data).

const SVG_NS = 'http://www.w3.org/2000/svg'

type Shape = ['path', string] | ['circle', number, number, number] | ['rect', number, number, number, number, number]

const ICONS: Record<string, Shape[]> = {
  plus: [['path', 'M12 5v14M5 12h14']],
  search: [['circle', 11, 11, 7], ['path', 'M20 20l-3.6-3.6']],
  message: [['path', 'M4 5h16v11H9l-5 4z']],
  users: [
    ['circle', 9, 8, 3.5],
    ['path', 'M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6M16 4.6a3.5 3.5 0 0 1 0 6.8M18 14.2c2 .7 3.5 2.7 3.5 5.8'],
  ],
  lock: [['rect', 5, 11, 14, 9, 2], ['path', 'M8 11V8a4 4 0 0 1 8 0v3']],
  hash: [['path', 'M10 4 8 20M16 4l-2 16M4.5 9h15M4 15h15']],
  edit: [['path', 'M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4']],
  trash: [['path', 'M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3']],
  smile: [['circle', 12, 12, 8.5], ['path', 'M8.5 14s1.3 2 3.5 2 3.5-2 3.5-2M9 9.5h.01M15 9.5h.01']],
  more: [['path', 'M5 12h.01M12 12h.01M19 12h.01']],
  close: [['path', 'M6 6l12 12M18 6 6 18']],
}

export function icon(name: keyof typeof ICONS | string, extraClass = ''): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('class', `icon icon-${name}${extraClass ? ' ' + extraClass : ''}`)
  svg.setAttribute('aria-hidden', 'true')
  svg.setAttribute('focusable', 'false')
  for (const shape of ICONS[name] ?? []) {
    const el = document.createElementNS(SVG_NS, shape[0])
    if (shape[0] === 'path') el.setAttribute('d', shape[1])
    else if (shape[0] === 'circle') {
      el.setAttribute('cx', String(shape[1]))
      el.setAttribute('cy', String(shape[2]))
      el.setAttribute('r', String(shape[3]))
    } else {
      el.setAttribute('x', String(shape[1]))
      el.setAttribute('y', String(shape[2]))
      el.setAttribute('width', String(shape[3]))
      el.setAttribute('height', String(shape[4]))
      el.setAttribute('rx', String(shape[5]))
    }
    svg.appendChild(el)
  }
  return svg
}
