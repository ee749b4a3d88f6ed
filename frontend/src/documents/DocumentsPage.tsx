export function DocumentsPage() {
  return <main className="container" id="main" />
}
