import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import * as fx from './fixtures';

/** The origin the tests' API lives at (VITE_API_URL in vite.config.ts `test.env`). */
export const API = 'http://ffe.test';

export const handlers = [
  http.get(`${API}/health`, () => HttpResponse.json(fx.health)),
  http.get(`${API}/api/v1/status`, () => HttpResponse.json(fx.portfolio)),
  http.get(`${API}/api/v1/positions`, () => HttpResponse.json({ items: fx.positions })),
  http.get(`${API}/api/v1/fills`, () => HttpResponse.json({ items: fx.fills })),
  http.get(`${API}/api/v1/orders`, () => HttpResponse.json({ items: [] })),
  http.get(`${API}/api/v1/decisions`, () => HttpResponse.json({ items: [fx.decision], next_cursor: null })),
  http.post(`${API}/api/v1/decisions`, () => HttpResponse.json(fx.decision, { status: 201 })),
  http.get(`${API}/api/bot/status`, () => HttpResponse.json(fx.agentStopped)),
  http.post(`${API}/api/bot/start`, () => HttpResponse.json(fx.agentRunning)),
  http.post(`${API}/api/bot/stop`, () => HttpResponse.json(fx.agentStopped)),
  http.post(`${API}/api/bot/pause`, () => HttpResponse.json({ ...fx.agentRunning, state: 'paused' })),
  http.post(`${API}/api/bot/resume`, () => HttpResponse.json(fx.agentRunning)),
  http.get(`${API}/api/v1/approvals`, ({ request }) => {
    const status = new URL(request.url).searchParams.get('status');
    const items = [fx.approval].filter((a) => !status || a.status === status);
    return HttpResponse.json({ items });
  }),
  http.post(`${API}/api/v1/approvals/:id/approve`, ({ params }) =>
    HttpResponse.json({ ...fx.approval, id: String(params.id), status: 'approved', decided_by: 'dashboard' }),
  ),
  http.post(`${API}/api/v1/approvals/:id/reject`, ({ params }) =>
    HttpResponse.json({ ...fx.approval, id: String(params.id), status: 'rejected', decided_by: 'dashboard' }),
  ),
  http.get(`${API}/api/v1/providers`, () => HttpResponse.json(fx.providers)),
  http.get(`${API}/api/v1/strategies`, () => HttpResponse.json({ items: fx.strategies })),
  http.get(`${API}/api/v1/instruments`, () => HttpResponse.json({ items: fx.instruments })),
  http.get(`${API}/api/v1/backtests`, () => HttpResponse.json({ items: [] })),
  http.get(`${API}/api/v1/live-gate`, () => HttpResponse.json(fx.liveGateOff)),
  http.post(`${API}/api/v1/backtests`, () => HttpResponse.json({ id: 'job-1', status: 'queued' }, { status: 202 })),
  http.get(`${API}/api/v1/backtests/:id`, () => HttpResponse.json(fx.jobDone)),
];

export const server = setupServer(...handlers);
