// Placeholder: built with the account API (issue 9).
export default function ResetPasswordPage() {
  return <main className="container" id="main" />
}
