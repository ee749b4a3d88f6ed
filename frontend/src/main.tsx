import './styles/app.css'

import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'

import { App } from './app/App'
import { makeQueryClient } from './app/queryClient'
import { installTheme } from './app/theme'

installTheme()
const root = document.getElementById('app')
if (!root) throw new Error('index.html has no #app')
createRoot(root).render(
  <StrictMode>
    <App queryClient={makeQueryClient()} />
  </StrictMode>,
)
