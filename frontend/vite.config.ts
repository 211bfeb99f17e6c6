/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The ffe API (`ffe serve`) listens on 127.0.0.1:8000 by default; the dev server proxies to it so
// the dashboard can use same-origin URLs (VITE_API_URL unset).
const backend = process.env.FFE_BACKEND_URL ?? 'http://127.0.0.1:8000';
const proxied = ['/api', '/health', '/ready', '/live', '/metrics', '/webhook'];

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: Object.fromEntries(
      proxied.map((p) => [
        p,
        {
          target: backend,
          changeOrigin: true,
          // Backend not running: answer 502 (what nginx would) so the dashboard shows its
          // "Cannot reach the ffe API" banner instead of a generic 500.
          configure: (proxy) => {
            proxy.on('error', (_err, _req, res) => {
              if ('writeHead' in res && !res.headersSent && !res.writableEnded) {
                res.writeHead(502, { 'Content-Type': 'application/json' });
                res.end(JSON.stringify({ status_code: 502, detail: `ffe API not reachable at ${backend}` }));
              }
            });
          },
        },
      ]),
    ),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    css: false,
    include: ['src/**/*.test.{ts,tsx}', 'scripts/**/*.test.ts'],
    restoreMocks: true,
    // The CI box is small and shared; generous timeouts keep slow-but-correct tests green.
    testTimeout: 20_000,
    // Tests talk to a fake absolute API origin (intercepted by MSW), so no relative-URL fetches.
    env: { VITE_API_URL: 'http://ffe.test' },
  },
});
