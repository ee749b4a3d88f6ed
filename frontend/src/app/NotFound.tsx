import { useEffect } from 'react'
import { Link } from 'react-router'

export function NotFound() {
  useEffect(() => {
    document.title = 'Page not found · Collab'
  }, [])
  return (
    <main className="container not-found" id="main">
      <h1 id="not-found">Page not found</h1>
      <p>There is nothing at this address. It may have moved, or the link may be mistyped.</p>
      <p>
        <Link to="/">← Back to documents</Link>
      </p>
    </main>
  )
}
