import { defineConfig } from "vite";

// The dashboard is served by Keyward itself at "/", so it calls the API on its own origin.
export default defineConfig({
  root: "web",
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
});
