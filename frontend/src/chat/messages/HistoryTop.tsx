import type { HistoryState } from '../room/History'

/** #history-top[data-state]: more | loading | start (the first message is loaded). */
export function HistoryTop({ state, title }: { state: HistoryState; title: string }) {
  return (
    <div id="history-top" className="history-top" data-state={state}>
      {state === 'loading' && (
        <>
          <span className="spinner" aria-hidden="true" /> Loading older messages…
        </>
      )}
      {state === 'start' && (
        <>
          <div className="history-start-title">{title}</div>
          <div className="muted">This is the very beginning of the conversation.</div>
        </>
      )}
    </div>
  )
}
