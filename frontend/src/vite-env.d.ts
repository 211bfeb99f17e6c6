/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Base URL of the ffe API, e.g. "http://127.0.0.1:8000". Empty/unset: same origin. */
  readonly VITE_API_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
