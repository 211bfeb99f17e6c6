import { useSettingsStore } from '../stores/settings';
import type { ApiErrorBody } from './models';

/** Base URL of the API: `VITE_API_URL` at build time, or '' (same origin). No trailing slash. */
export function apiBaseUrl(): string {
  const raw = import.meta.env.VITE_API_URL ?? '';
  return raw.replace(/\/+$/, '');
}

/** Human-readable location of the API for messages ("Cannot reach the ffe API at …"). */
export function apiDisplayUrl(): string {
  const base = apiBaseUrl();
  if (base) return base;
  return typeof window !== 'undefined' ? window.location.origin : '(same origin)';
}

export type ApiErrorKind = 'http' | 'network' | 'timeout' | 'parse';

/** Every failure of `apiFetch`: HTTP errors carry the server's `detail`; network errors have status 0. */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  readonly extra: unknown;
  readonly kind: ApiErrorKind;
  readonly url: string;
  /** The parsed response body, when there was one. */
  readonly body: unknown;

  constructor(opts: { status: number; detail: string; kind: ApiErrorKind; url: string; extra?: unknown; body?: unknown }) {
    super(opts.kind === 'http' ? `${opts.status}: ${opts.detail}` : opts.detail);
    this.name = 'ApiError';
    this.status = opts.status;
    this.detail = opts.detail;
    this.kind = opts.kind;
    this.url = opts.url;
    this.extra = opts.extra;
    this.body = opts.body;
  }

  /** The API could not be reached at all (connection refused, DNS, CORS, proxy with no upstream). */
  get isUnreachable(): boolean {
    return this.kind === 'network' || this.kind === 'timeout' || this.status === 502 || this.status === 504;
  }

  get isAuthError(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** One-line description of an error for panels and toasts. */
export function errorMessage(e: unknown): string {
  if (isApiError(e)) {
    if (e.isUnreachable) return `Cannot reach the ffe API at ${apiDisplayUrl()}`;
    if (e.status === 401) return `Unauthorized: ${e.detail}. Set the API key (key button in the header).`;
    return e.kind === 'http' ? `${e.detail} (HTTP ${e.status})` : e.detail;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  let url = `${apiBaseUrl()}${path.startsWith('/') ? path : `/${path}`}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.append(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  return url;
}

function combineSignals(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal | undefined {
  const timeout = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeoutMs) : undefined;
  if (!signal) return timeout;
  if (!timeout) return signal;
  return typeof AbortSignal.any === 'function' ? AbortSignal.any([signal, timeout]) : signal;
}

function detailFrom(body: unknown, fallback: string): { detail: string; extra?: unknown } {
  if (body && typeof body === 'object' && 'detail' in body) {
    const b = body as Partial<ApiErrorBody>;
    const detail = typeof b.detail === 'string' ? b.detail : JSON.stringify(b.detail);
    return { detail: detail || fallback, extra: b.extra };
  }
  if (typeof body === 'string' && body.trim()) return { detail: body.trim().slice(0, 300) };
  return { detail: fallback };
}

/** Fetch `path` from the ffe API and parse its JSON; throws `ApiError` on any failure. */
export async function apiFetch<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const url = buildUrl(path, opts.query);
  const headers: Record<string, string> = { Accept: 'application/json' };
  const apiKey = useSettingsStore.getState().apiKey;
  if (apiKey) headers['X-API-Key'] = apiKey;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }

  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? 'GET',
      headers,
      body,
      signal: combineSignals(opts.signal, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (e) {
    // A caller-initiated abort (React Query cancelling) must stay an AbortError.
    if (opts.signal?.aborted) throw e;
    const timedOut = e instanceof DOMException && (e.name === 'TimeoutError' || e.name === 'AbortError');
    throw new ApiError({
      status: 0,
      kind: timedOut ? 'timeout' : 'network',
      detail: timedOut ? `Request to ${url} timed out` : `Cannot reach the ffe API at ${apiDisplayUrl()}`,
      url,
    });
  }

  const text = await res.text().catch(() => '');
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }

  if (!res.ok) {
    const { detail, extra } = detailFrom(parsed, res.statusText || `HTTP ${res.status}`);
    throw new ApiError({ status: res.status, kind: 'http', detail, extra, url, body: parsed });
  }
  if (typeof parsed === 'string') {
    throw new ApiError({ status: res.status, kind: 'parse', detail: `Expected JSON from ${url}`, url });
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) =>
    apiFetch<T>(path, { query, signal }),
  post: <T>(path: string, body?: unknown) => apiFetch<T>(path, { method: 'POST', body }),
};
