import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev -w @warden/dashboard` proxies to a hub on this address; set WARDEN_HUB_URL for another one.
const hub = process.env.WARDEN_HUB_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  // Served by the hub at `/`, same origin as `/api` and `/socket.io`.
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Control rooms are often offline from the internet: everything is bundled, nothing loads from a CDN.
    assetsInlineLimit: 0,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: hub, changeOrigin: true },
      '/socket.io': { target: hub, ws: true, changeOrigin: true },
      '/video': { target: hub, ws: true, changeOrigin: true },
    },
  },
});
