import { useRef, useState, type SyntheticEvent } from 'react'

import { useTheme, type ThemeChoice } from '../../app/theme'
import { Avatar } from '../../shared/Avatar'
import { FormError } from '../../shared/FormError'
import { displayName, useCurrentUser } from '../queries'
import { useAvatar, useUpdateProfile } from './queries'

const AVATAR_TYPES = 'image/png,image/jpeg,image/webp,image/gif'
const AVATAR_MAX_BYTES = 2 * 1024 * 1024

function AvatarForm() {
  const user = useCurrentUser()
  const { upload, remove } = useAvatar()
  const input = useRef<HTMLInputElement>(null)
  const [problem, setProblem] = useState<string | null>(null)
  const choose = (file: File | undefined) => {
    setProblem(null)
    if (!file) return
    // The server checks again (the real type, the pixels); this only saves a useless upload.
    if (file.size > AVATAR_MAX_BYTES) {
      setProblem('An avatar must be at most 2 MB.')
      return
    }
    upload.mutate(file)
    if (input.current) input.current.value = ''
  }
  return (
    <section className="card" aria-labelledby="avatar-title">
      <h2 id="avatar-title">Avatar</h2>
      <div className="avatar-row">
        <Avatar
          name={displayName(user)}
          color={user.color}
          imageUrl={user.avatar_url}
          size="xl"
          label={`Your avatar`}
        />
        <div className="stack-form">
          <label htmlFor="avatar-file">Upload a picture (PNG, JPEG, WebP or GIF, at most 2 MB)</label>
          <input
            id="avatar-file"
            ref={input}
            type="file"
            accept={AVATAR_TYPES}
            disabled={upload.isPending}
            onChange={(e) => choose(e.target.files?.[0])}
          />
          {user.avatar_url && (
            <button
              type="button"
              id="avatar-remove"
              onClick={() => remove.mutate()}
              disabled={remove.isPending}
            >
              Remove avatar
            </button>
          )}
          <FormError id="avatar-error" error={problem ?? upload.error ?? remove.error} />
        </div>
      </div>
    </section>
  )
}

function ProfileForm() {
  const user = useCurrentUser()
  const update = useUpdateProfile()
  const [name, setName] = useState(user.name)
  const [email, setEmail] = useState(user.email)
  const [password, setPassword] = useState('')
  const [saved, setSaved] = useState(false)
  const emailChanged = email.trim() !== user.email
  const submit = (event: SyntheticEvent) => {
    event.preventDefault()
    setSaved(false)
    const change = {
      ...(name.trim() !== user.name ? { name: name.trim() } : {}),
      ...(emailChanged ? { email: email.trim(), current_password: password } : {}),
    }
    update.mutate(change, {
      onSuccess: (saved) => {
        // The server's spelling (e.g. the e-mail's domain in lower case) is what the form shows now.
        setName(saved.name)
        setEmail(saved.email)
        setPassword('')
        setSaved(true)
      },
    })
  }
  return (
    <section className="card" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <form className="stack-form" onSubmit={submit}>
        <p className="muted small">
          Username: <strong>{user.username}</strong> (cannot be changed)
        </p>
        <label htmlFor="profile-name">Display name</label>
        <input
          id="profile-name"
          maxLength={100}
          required
          autoComplete="name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-describedby="profile-name-help"
        />
        <p className="field-help" id="profile-name-help">
          Shown to others in documents, cursors and chat; 1 to 100 characters.
        </p>
        <label htmlFor="profile-email">Email</label>
        <input
          id="profile-email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        {emailChanged && (
          <>
            <label htmlFor="profile-password">Current password (to change the email)</label>
            <input
              id="profile-password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </>
        )}
        <FormError id="profile-error" error={update.error} />
        {saved && (
          <p className="form-success" role="status">
            Saved.
          </p>
        )}
        <button type="submit" id="profile-save" className="primary" disabled={update.isPending}>
          Save profile
        </button>
      </form>
    </section>
  )
}

const THEMES: { value: ThemeChoice; label: string }[] = [
  { value: 'system', label: 'Same as the system' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
]

function ThemeForm() {
  const { choice, setChoice } = useTheme()
  const update = useUpdateProfile()
  return (
    <section className="card" aria-labelledby="theme-title">
      <h2 id="theme-title">Appearance</h2>
      <fieldset className="radio-group">
        <legend className="visually-hidden">Theme</legend>
        {THEMES.map((theme) => (
          <label key={theme.value} className="radio">
            <input
              type="radio"
              name="theme"
              value={theme.value}
              checked={choice === theme.value}
              onChange={() => {
                setChoice(theme.value)
                update.mutate({ theme: theme.value })
              }}
            />
            {theme.label}
          </label>
        ))}
      </fieldset>
      <FormError error={update.error} />
    </section>
  )
}

export function ProfileSection() {
  return (
    <>
      <h1>Profile</h1>
      <ProfileForm />
      <AvatarForm />
      <ThemeForm />
    </>
  )
}
