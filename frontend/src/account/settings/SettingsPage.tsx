// Placeholder: built with the account API (issue 9).
export default function SettingsPage() {
  return <main className="container" id="main" />
}
