import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` proxies the API to a local `fairbeam serve` (FAIRBEAM_API, default port 8000).
const api = process.env.FAIRBEAM_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  server: { proxy: { '/api': api } },
  build: { outDir: 'dist', chunkSizeWarningLimit: 4000 },
});
