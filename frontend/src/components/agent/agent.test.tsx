import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import * as fx from '../../test/fixtures';
import { renderApp, renderWithProviders } from '../../test/render';
import { API, server } from '../../test/server';
import { AgentStatusPanel } from './AgentStatusPanel';
import { ApprovalHistory, ApprovalsPanel } from './ApprovalsPanel';

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

  it('shows the risk card: exposure and VaR before and after, agreement, expected fill', async () => {
    renderWithProviders(<ApprovalsPanel />);
    const card = await screen.findByTestId('approval-card');
    expect(within(card).getByTestId('approval-exposure-after')).toHaveTextContent('$2,250.00');
    expect(within(card).getByTestId('approval-var-after')).toHaveTextContent('$41.20');
    expect(within(card).getByTestId('approval-agreement')).toHaveTextContent('2/3 providers agree');
    expect(card).toHaveTextContent('Brier (last 50): trend 0.210, llm n/a');
    expect(card).toHaveTextContent('expected fill $45,022.50 · cost $3.38');
    expect(screen.getByTestId('approval-row')).toHaveTextContent('(then denied)');
  });

  it('approves at a smaller size typed in the field, and refuses one above the sized order', async () => {
    const bodies: unknown[] = [];
    server.use(
      http.post(`${API}/api/v1/approvals/:id/approve`, async ({ params, request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ ...fx.approval, id: String(params.id), status: 'approved', approved_size: '0.025' });
      }),
    );
    const user = userEvent.setup();
    renderWithProviders(<ApprovalsPanel />);
    const input = await screen.findByTestId('approval-size-input');
    await user.type(input, '0.5');
    expect(screen.getByRole('button', { name: 'Approve size' })).toBeDisabled();
    await user.clear(input);
    await user.type(input, '0.025');
    await user.click(screen.getByRole('button', { name: 'Approve size' }));
    await waitFor(() => expect(bodies).toEqual([{ by: 'dashboard', size: '0.025' }]));
  });

  it('shows what approving commits to: size and notional', async () => {
    renderWithProviders(<ApprovalsPanel />);
    const figures = await screen.findByTestId('approval-figures');
    expect(figures).toHaveTextContent('size 0.05 · gate would send 0.05 · notional $2,250.00 @ $45,000.00');
    const row = screen.getByTestId('approval-row');
    expect(within(row).getByTestId('approval-decision-link')).toHaveAttribute('href', '/decisions/dec-1');
    expect(within(row).getByTestId('approval-countdown')).toHaveTextContent(/^(\d+h \d+m left|\d+m \d\ds left|\d+s left|expired)$/);
  });

  it('shows the size the gate would send now and prices to the instrument increment', async () => {
    server.use(
      http.get(`${API}/api/v1/approvals`, () =>
        HttpResponse.json({
          items: [{ ...fx.approval, instrument: 'EUR-USD', size: '10000', size_now: '8000', reference_price: '1.085234', notional: '10852.34' }],
        }),
      ),
    );
    renderWithProviders(<ApprovalsPanel />);
    const figures = await screen.findByTestId('approval-figures');
    await waitFor(() => expect(figures).toHaveTextContent('@ $1.08523'));
    expect(within(figures).getByTestId('approval-size-now')).toHaveTextContent('gate would send 8,000');
    expect(within(figures).getByTestId('approval-size-now')).toHaveClass('warn-text');
  });

  it('on a 409 shows the true state from the server and refreshes the list', async () => {
    let decided = false;
    const detail = 'approval apr-1 is already rejected by telegram:@alice';
    server.use(
      http.get(`${API}/api/v1/approvals`, () => HttpResponse.json({ items: decided ? [] : [fx.approval] })),
      http.post(`${API}/api/v1/approvals/:id/approve`, () => {
        decided = true; // someone else was a moment earlier
        return HttpResponse.json({ status_code: 409, detail }, { status: 409 });
      }),
    );
    const user = userEvent.setup();
    renderWithProviders(<ApprovalsPanel />);
    await user.click(await screen.findByRole('button', { name: 'Approve' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(detail);
    expect(screen.getByRole('alert')).not.toHaveTextContent('HTTP 409');
    expect(await screen.findByTestId('state-empty')).toBeInTheDocument(); // refetched: gone
  });

  it('on a 409 while the kill switch is tripped keeps the approval pending', async () => {
    const detail = 'the kill switch is tripped (daily loss limit); approving is refused until it is reset';
    server.use(
      http.post(`${API}/api/v1/approvals/:id/approve`, () => HttpResponse.json({ status_code: 409, detail }, { status: 409 })),
    );
    const user = userEvent.setup();
    renderWithProviders(<ApprovalsPanel />);
    await user.click(await screen.findByRole('button', { name: 'Approve' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(detail);
    expect(screen.getByTestId('approval-row')).toBeInTheDocument();
  });

  it('says so when an approved order was not executed (failed at the gate)', async () => {
    server.use(
      http.post(`${API}/api/v1/approvals/:id/approve`, () =>
        HttpResponse.json({ ...fx.approval, status: 'failed', decided_by: 'dashboard', reason: 'a working order on BTC-USD already exists' }),
      ),
    );
    const user = userEvent.setup();
    renderWithProviders(<ApprovalsPanel />);
    await user.click(await screen.findByRole('button', { name: 'Approve' }));
    expect(await screen.findByTestId('approval-outcome')).toHaveTextContent(
      'BTC-USD: approved, but not executed: a working order on BTC-USD already exists',
    );
  });

  it('says nothing extra when an approval went through', async () => {
    const user = userEvent.setup();
    renderWithProviders(<ApprovalsPanel />);
    await user.click(await screen.findByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Approve' })).toBeEnabled());
    expect(screen.queryByTestId('approval-outcome')).not.toBeInTheDocument();
  });

  it('has an empty state', async () => {
    server.use(http.get(`${API}/api/v1/approvals`, () => HttpResponse.json({ items: [] })));
    renderWithProviders(<ApprovalsPanel />);
    expect(await screen.findByTestId('state-empty')).toHaveTextContent('No decisions waiting for approval.');
  });
});

describe('ApprovalHistory', () => {
  it('shows every resolved status with its notional and reason', async () => {
    const items = [
      fx.approval,
      { ...fx.approval, id: 'apr-2', status: 'approved', decided_by: 'dashboard', decided_at: '2026-01-01T03:01:00Z' },
      { ...fx.approval, id: 'apr-3', status: 'superseded', reason: 'superseded by decision dec-9' },
      { ...fx.approval, id: 'apr-4', status: 'failed', decided_by: 'api:ops', reason: 'venue refused: insufficient funds' },
      { ...fx.approval, id: 'apr-5', status: 'expired', reason: 'price moved 3.10% since the decision (max 2%)' },
      { ...fx.approval, id: 'apr-6', status: 'rejected', decided_by: 'telegram:@alice', notional: null },
    ];
    server.use(http.get(`${API}/api/v1/approvals`, () => HttpResponse.json({ items })));
    renderWithProviders(<ApprovalHistory />);
    const rows = await screen.findAllByTestId('approval-history-row');
    expect(rows.map((r) => r.getAttribute('data-status'))).toEqual(['approved', 'superseded', 'failed', 'expired', 'rejected']);
    expect(rows[0]).toHaveTextContent('$2,250.00');
    expect(rows[1]).toHaveTextContent('superseded by decision dec-9');
    expect(rows[2]).toHaveTextContent('venue refused: insufficient funds');
    expect(rows[2]).toHaveTextContent('api:ops');
    expect(within(rows[2]!).getByText('failed')).toHaveClass('pill-bad');
    expect(within(rows[1]!).getByText('superseded')).toHaveClass('pill-info');
    expect(rows[3]).toHaveTextContent('price moved 3.10% since the decision (max 2%)');
    expect(rows[4]).toHaveTextContent('—'); // no notional, no reason
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
