// The notices above the message list (#chat-notices .notice[data-code]).
import { useEffect, useState } from 'react'

import { useStore } from '../lib/store'
import type { Notice, Notices } from './Notices'

export function NoticeList({ notices }: { notices: Notices }) {
  const list = useStore(notices)
  return (
    <div id="chat-notices" className="notices" role="status" aria-live="polite">
      {list.map((n) => (
        <NoticeItem key={n.id} notice={n} onDismiss={() => notices.dismiss(n.id)} />
      ))}
    </div>
  )
}

function NoticeItem({ notice: n, onDismiss }: { notice: Notice; onDismiss: () => void }) {
  const left = useSecondsLeft(n.until)
  return (
    <div className={`notice notice-${n.kind}`} data-code={n.code}>
      <span className="notice-text">
        {n.text}
        {left !== null && left > 0 && ` You can send again in ${left} s.`}
      </span>
      <button type="button" className="notice-close" aria-label="Dismiss" onClick={onDismiss}>
        ×
      </button>
    </div>
  )
}

function useSecondsLeft(until: number | undefined): number | null {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!until) return
    const timer = window.setInterval(() => setNow(Date.now()), 250)
    return () => window.clearInterval(timer)
  }, [until])
  return until ? Math.ceil((until - now) / 1000) : null
}
