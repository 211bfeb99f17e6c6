import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { useSettingsStore } from '../stores/settings';
import { API, server } from '../test/server';
import { ApiError, apiFetch, buildUrl, errorMessage } from './client';

describe('apiFetch', () => {
  it('builds URLs from VITE_API_URL and drops empty query params', () => {
    expect(buildUrl('/api/v1/decisions', { instrument: 'BTC-USD', action: undefined, limit: 5, cursor: '' })).toBe(
      `${API}/api/v1/decisions?instrument=BTC-USD&limit=5`,
    );
  });

  it('sends X-API-Key when a key is stored, and not otherwise', async () => {
    const seen: (string | null)[] = [];
    server.use(
      http.get(`${API}/api/v1/positions`, ({ request }) => {
        seen.push(request.headers.get('x-api-key'));
        return HttpResponse.json({ items: [] });
      }),
    );
    await apiFetch('/api/v1/positions');
    useSettingsStore.getState().setApiKey('  s3cret  ');
    await apiFetch('/api/v1/positions');
    expect(seen).toEqual([null, 's3cret']);
  });

  it('sends JSON bodies on POST', async () => {
    let body: unknown = null;
    server.use(
      http.post(`${API}/api/v1/decisions`, async ({ request }) => {
        body = await request.json();
        expect(request.headers.get('content-type')).toContain('application/json');
        return HttpResponse.json({ id: 'x' }, { status: 201 });
      }),
    );
    await expect(apiFetch('/api/v1/decisions', { method: 'POST', body: { instrument: 'ETH-USD' } })).resolves.toEqual({ id: 'x' });
    expect(body).toEqual({ instrument: 'ETH-USD' });
  });

  it('throws ApiError carrying the server detail', async () => {
    server.use(
      http.post(`${API}/api/bot/start`, () =>
        HttpResponse.json({ status_code: 409, detail: 'agent already running', extra: null }, { status: 409 }),
      ),
    );
    const err = await apiFetch('/api/bot/start', { method: 'POST' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(409);
    expect(e.detail).toBe('agent already running');
    expect(e.isUnreachable).toBe(false);
    expect(errorMessage(e)).toBe('agent already running (HTTP 409)');
  });

  it('flags 401 as an auth error with a hint', async () => {
    server.use(http.get(`${API}/api/v1/status`, () => HttpResponse.json({ status_code: 401, detail: 'missing API key' }, { status: 401 })));
    const e = (await apiFetch('/api/v1/status').catch((x: unknown) => x)) as ApiError;
    expect(e.isAuthError).toBe(true);
    expect(errorMessage(e)).toMatch(/API key/);
  });

  it('turns a network failure into an unreachable ApiError', async () => {
    server.use(http.get(`${API}/health`, () => HttpResponse.error()));
    const e = (await apiFetch('/health').catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(0);
    expect(e.isUnreachable).toBe(true);
    expect(errorMessage(e)).toBe(`Cannot reach the ffe API at ${API}`);
  });

  it('uses the text body as detail when the error is not JSON', async () => {
    server.use(http.get(`${API}/api/v1/fills`, () => new HttpResponse('upstream exploded', { status: 500 })));
    const e = (await apiFetch('/api/v1/fills').catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(500);
    expect(e.detail).toBe('upstream exploded');
  });
});
