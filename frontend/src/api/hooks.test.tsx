import { act, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { useSettingsStore } from '../stores/settings';
import * as fx from '../test/fixtures';
import { renderHookWithClient } from '../test/render';
import { API, server } from '../test/server';
import { useAgentControl, useAgentStatus } from './agent';
import { useApprovals } from './approvals';
import { useBacktestJob, useBacktests, useSubmitBacktest } from './backtests';
import { useDecisions } from './decisions';
import { useHealth } from './health';
import { usePortfolio, usePositions } from './portfolio';
import { useProviders } from './providers';
import { queryKeys } from './queryKeys';
import { isReplayResult } from './models';

describe('query hooks', () => {
  it('useHealth parses /health and sends the API key', async () => {
    useSettingsStore.getState().setApiKey('k1');
    let key: string | null = null;
    server.use(
      http.get(`${API}/health`, ({ request }) => {
        key = request.headers.get('X-API-Key');
        return HttpResponse.json(fx.health);
      }),
    );
    const { result } = renderHookWithClient(() => useHealth());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.data?.mode).toBe('paper');
    expect(result.current.data?.circuit_breakers).toHaveLength(2);
    expect(key).toBe('k1');
  });

  it('usePortfolio reads GET /api/v1/status', async () => {
    const { result } = renderHookWithClient(() => usePortfolio());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.data?.equity).toBe('10250.50');
    expect(result.current.data?.equity_curve).toHaveLength(4);
  });

  it('usePositions and useApprovals unwrap items; approvals pass the status filter', async () => {
    const statuses: (string | null)[] = [];
    server.use(
      http.get(`${API}/api/v1/approvals`, ({ request }) => {
        statuses.push(new URL(request.url).searchParams.get('status'));
        return HttpResponse.json({ items: [fx.approval] });
      }),
    );
    const positions = renderHookWithClient(() => usePositions());
    const approvals = renderHookWithClient(() => useApprovals('pending'));
    await waitFor(() => expect(positions.result.current.data).toHaveLength(1));
    await waitFor(() => expect(approvals.result.current.data?.[0]?.id).toBe('apr-1'));
    expect(statuses).toEqual(['pending']);
  });

  it('useDecisions passes filters as query parameters', async () => {
    let url: URL | null = null;
    server.use(
      http.get(`${API}/api/v1/decisions`, ({ request }) => {
        url = new URL(request.url);
        return HttpResponse.json({ items: [fx.decision], next_cursor: 'c2' });
      }),
    );
    const { result } = renderHookWithClient(() => useDecisions({ instrument: 'BTC-USD', action: 'BUY', limit: 10 }));
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.data?.next_cursor).toBe('c2');
    expect(url!.searchParams.get('instrument')).toBe('BTC-USD');
    expect(url!.searchParams.get('action')).toBe('BUY');
    expect(url!.searchParams.get('limit')).toBe('10');
  });

  it('useProviders returns stats and weight history', async () => {
    const { result } = renderHookWithClient(() => useProviders());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.data?.items.map((p) => p.provider)).toEqual(['trend', 'llm']);
    expect(result.current.data?.weight_history).toHaveLength(2);
  });

  it('a failing endpoint surfaces the ApiError detail', async () => {
    server.use(http.get(`${API}/api/v1/status`, () => HttpResponse.json({ status_code: 503, detail: 'storage down' }, { status: 503 })));
    const { result } = renderHookWithClient(() => usePortfolio());
    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(result.current.error).toMatchObject({ status: 503, detail: 'storage down' });
  });

  it('useAgentControl.start POSTs /api/bot/start and stores the returned status', async () => {
    const calls: string[] = [];
    server.use(
      http.post(`${API}/api/bot/:command`, ({ params }) => {
        calls.push(String(params.command));
        return HttpResponse.json(fx.agentRunning);
      }),
    );
    const { result, client } = renderHookWithClient(() => ({ control: useAgentControl(), status: useAgentStatus() }));
    await waitFor(() => expect(result.current.status.data?.state).toBe('stopped'));
    server.use(http.get(`${API}/api/bot/status`, () => HttpResponse.json(fx.agentRunning)));
    await act(() => result.current.control.start.mutateAsync());
    expect(calls).toEqual(['start']);
    expect(client.getQueryData(queryKeys.agentStatus)).toMatchObject({ state: 'running' });
    await act(() => result.current.control.pause.mutateAsync());
    await act(() => result.current.control.resume.mutateAsync());
    await act(() => result.current.control.stop.mutateAsync());
    expect(calls).toEqual(['start', 'pause', 'resume', 'stop']);
  });

  it('useSubmitBacktest posts the request; useBacktestJob polls until done', async () => {
    let posted: unknown = null;
    let polls = 0;
    server.use(
      http.post(`${API}/api/v1/backtests`, async ({ request }) => {
        posted = await request.json();
        return HttpResponse.json({ id: 'job-9', status: 'queued' }, { status: 202 });
      }),
      http.get(`${API}/api/v1/backtests/job-9`, () => {
        polls += 1;
        if (polls === 1) return HttpResponse.json({ ...fx.jobQueued, id: 'job-9', status: 'running', progress: 0.5 });
        return HttpResponse.json({ ...fx.jobDone, id: 'job-9' });
      }),
    );
    const submit = renderHookWithClient(() => useSubmitBacktest());
    const req = { kind: 'backtest' as const, instrument: 'BTC-USD', strategy: 'sma_cross', params: { fast: 5, slow: 20 }, cash: 10000, commission: 0.001, bars: 300 };
    let jobId = '';
    await act(async () => {
      jobId = (await submit.result.current.mutateAsync(req)).id;
    });
    expect(posted).toEqual(req);
    expect(jobId).toBe('job-9');

    const job = renderHookWithClient(() => useBacktestJob(jobId, 20));
    await waitFor(() => expect(job.result.current.data?.status).toBe('done'));
    expect(polls).toBeGreaterThanOrEqual(2);
    const result = job.result.current.data?.result;
    expect(result && !isReplayResult(result) ? result.stats['Sharpe Ratio'] : null).toBe(1.5);
  });

  it('useBacktestJob keeps the jobs list in step with the job it polls', async () => {
    let polls = 0;
    server.use(
      http.get(`${API}/api/v1/backtests`, () => HttpResponse.json({ items: [{ ...fx.jobQueued, id: 'job-7', status: 'running', progress: 0.1 }] })),
      http.get(`${API}/api/v1/backtests/job-7`, () => {
        polls += 1;
        return HttpResponse.json(polls === 1 ? { ...fx.jobQueued, id: 'job-7', status: 'running', progress: 0.5 } : { ...fx.jobDone, id: 'job-7' });
      }),
    );
    const both = renderHookWithClient(() => ({ list: useBacktests(), job: useBacktestJob('job-7', 20) }));
    await waitFor(() => expect(both.result.current.job.data?.status).toBe('done'));
    await waitFor(() => expect(both.result.current.list.data?.[0]?.status).toBe('done'));
    expect(both.result.current.list.data?.[0]?.progress).toBe(fx.jobDone.progress);
  });
});
