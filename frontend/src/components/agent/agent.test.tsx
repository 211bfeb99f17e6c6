import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import * as fx from '../../test/fixtures';
import { renderApp, renderWithProviders } from '../../test/render';
import { API, server } from '../../test/server';
import { AgentStatusPanel } from './AgentStatusPanel';
import { ApprovalsPanel } from './ApprovalsPanel';

describe('ApprovalsPanel', () => {
  it('approve and reject call the right endpoint for the row', async () => {
    const calls: string[] = [];
    const bodies: unknown[] = [];
    const second = { ...fx.approval, id: 'apr-2', instrument: 'ETH-USD', summary: 'SELL 1 ETH-USD' };
    server.use(
      http.get(`${API}/api/v1/approvals`, () => HttpResponse.json({ items: [fx.approval, second] })),
      http.post(`${API}/api/v1/approvals/:id/:verb`, async ({ params, request }) => {
        calls.push(`${String(params.id)}/${String(params.verb)}`);
        bodies.push(await request.json());
        return HttpResponse.json({ ...fx.approval, id: String(params.id), status: params.verb === 'approve' ? 'approved' : 'rejected' });
      }),
    );
    const user = userEvent.setup();
    renderWithProviders(<ApprovalsPanel />);
    const rows = await screen.findAllByTestId('approval-row');
    expect(rows).toHaveLength(2);
    await user.click(within(rows[0]!).getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(calls).toEqual(['apr-1/approve']));
    await user.click(within(rows[1]!).getByRole('button', { name: 'Reject' }));
    await waitFor(() => expect(calls).toEqual(['apr-1/approve', 'apr-2/reject']));
    expect(bodies[0]).toEqual({ by: 'dashboard' });
  });

  it('shows the server detail when an approval was already resolved', async () => {
    server.use(
      http.post(`${API}/api/v1/approvals/:id/approve`, () =>
        HttpResponse.json({ status_code: 409, detail: 'approval already resolved' }, { status: 409 }),
      ),
    );
    const user = userEvent.setup();
    renderWithProviders(<ApprovalsPanel />);
    await user.click(await screen.findByRole('button', { name: 'Approve' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('approval already resolved (HTTP 409)');
  });

  it('has an empty state', async () => {
    server.use(http.get(`${API}/api/v1/approvals`, () => HttpResponse.json({ items: [] })));
    renderWithProviders(<ApprovalsPanel />);
    expect(await screen.findByTestId('state-empty')).toHaveTextContent('No decisions waiting for approval.');
  });
});

describe('AgentStatusPanel', () => {
  it('starts a stopped agent and shows the running status', async () => {
    let started = false;
    server.use(
      http.get(`${API}/api/bot/status`, () => HttpResponse.json(started ? fx.agentRunning : fx.agentStopped)),
      http.post(`${API}/api/bot/start`, () => {
        started = true;
        return HttpResponse.json(fx.agentRunning);
      }),
    );
    const user = userEvent.setup();
    renderWithProviders(<AgentStatusPanel />);
    const start = await screen.findByRole('button', { name: 'Start agent' });
    await waitFor(() => expect(start).toBeEnabled());
    expect(screen.getByRole('button', { name: 'Stop agent' })).toBeDisabled();
    await user.click(start);
    await waitFor(() => expect(screen.getByTestId('agent-state')).toHaveTextContent('running'));
    expect(screen.getByTestId('agent-uptime')).toHaveTextContent('1h 2m 5s');
    expect(screen.getByTestId('agent-cycles')).toHaveTextContent('12');
    expect(screen.getByTestId('agent-phase')).toHaveTextContent('deciding');
    expect(screen.getByRole('button', { name: 'Pause agent' })).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Start agent' })).toBeDisabled();
  });

  it('shows a tripped kill switch and a 409 from start', async () => {
    server.use(
      http.get(`${API}/api/bot/status`, () =>
        HttpResponse.json({ ...fx.agentStopped, kill_switch: { tripped: true, reason: 'daily loss limit', at: '2026-01-01T00:00:00Z' } }),
      ),
      http.post(`${API}/api/bot/start`, () => HttpResponse.json({ status_code: 409, detail: 'kill switch tripped' }, { status: 409 })),
    );
    const user = userEvent.setup();
    renderWithProviders(<AgentStatusPanel />);
    const ks = await screen.findByTestId('kill-switch');
    expect(ks).toHaveAttribute('data-tripped', 'true');
    expect(ks).toHaveTextContent('TRIPPED');
    expect(ks).toHaveTextContent('daily loss limit');
    await user.click(screen.getByRole('button', { name: 'Start agent' }));
    expect(await screen.findByTestId('agent-control-error')).toHaveTextContent('kill switch tripped');
  });

  it('renders inside the /agent-control page with approvals', async () => {
    renderApp('/agent-control');
    expect(await screen.findByRole('heading', { name: 'Agent Control' })).toBeInTheDocument();
    expect(await screen.findByTestId('approval-row')).toHaveTextContent('BUY 0.05 BTC-USD');
  });
});
