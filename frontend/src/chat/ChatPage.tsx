// Placeholder while the chat moves to React (src/legacy/pages/chat.ts is what runs today).
export default function ChatPage() {
  return <main id="chat-empty" className="container" />
}
