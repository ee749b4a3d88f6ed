/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react'
import { defineConfig, loadEnv } from 'vite'

// The Django backend serves dist/index.html for every app route (unknown ones with status 404)
// and the built assets under /static/app/. In dev (`npm run dev`) the app is served from / and
// /api + /ws are proxied to the backend (BACKEND_URL, default http://127.0.0.1:8000).
export default defineConfig(({ command, mode }) => {
  const backend = loadEnv(mode, '.', '').BACKEND_URL || 'http://127.0.0.1:8000'
  return {
    base: command === 'build' ? '/static/app/' : '/',
    plugins: [react()],
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      sourcemap: false,
      chunkSizeWarningLimit: 1024,
    },
    server: {
      port: 5173,
      proxy: {
        '/api': { target: backend },
        '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
      },
    },
    test: {
      environment: 'jsdom',
      setupFiles: ['./src/test/setup.ts'],
      include: ['src/**/*.test.{ts,tsx}'],
      restoreMocks: true,
    },
  }
})
