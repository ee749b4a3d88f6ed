// Placeholder: built with the account API (issue 9).
export default function ForgotPasswordPage() {
  return <main className="container" id="main" />
}
