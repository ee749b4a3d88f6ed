export default function DocumentPage() {
  return <main className="container" id="main" />
}
