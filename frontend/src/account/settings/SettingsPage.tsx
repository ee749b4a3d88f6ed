import { useEffect } from 'react'
import { Navigate, NavLink, useParams } from 'react-router'

import { NotFound } from '../../app/NotFound'
import { ProfileSection } from './ProfileSection'
import { SecuritySection } from './SecuritySection'
import { SessionsSection } from './SessionsSection'
import { TokensSection } from './TokensSection'

const SECTIONS = {
  profile: { label: 'Profile', element: <ProfileSection /> },
  security: { label: 'Password', element: <SecuritySection /> },
  tokens: { label: 'API tokens', element: <TokensSection /> },
  sessions: { label: 'Sessions', element: <SessionsSection /> },
} as const

type Section = keyof typeof SECTIONS

function isSection(name: string): name is Section {
  return Object.hasOwn(SECTIONS, name)
}

export default function SettingsPage() {
  const { section } = useParams()
  const current = section && isSection(section) ? SECTIONS[section] : null
  useEffect(() => {
    if (current) document.title = `${current.label} · Settings · Collab`
  }, [current])
  if (!section) return <Navigate to="/settings/profile" replace />
  if (!current) return <NotFound />
  return (
    <div className="settings-layout">
      <nav className="settings-nav" aria-label="Settings">
        {Object.entries(SECTIONS).map(([name, { label }]) => (
          <NavLink key={name} to={`/settings/${name}`} id={`settings-nav-${name}`}>
            {label}
          </NavLink>
        ))}
      </nav>
      <main className="settings-section" id="main">
        {current.element}
      </main>
    </div>
  )
}
