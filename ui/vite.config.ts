import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The desktop shell loads the built files from ui/dist; `npm run dev` serves them on the port
// tauri.conf.json names as devUrl.
export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: 'safari15', outDir: 'dist', emptyOutDir: true },
  // Component tests mount Svelte's browser build, not its server one.
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  test: {
    environment: 'jsdom',
    // Globals let Testing Library unmount each component after its test.
    globals: true,
    include: ['src/**/*.test.ts'],
  },
}));
