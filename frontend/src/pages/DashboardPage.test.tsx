import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import * as fx from '../test/fixtures';
import { renderApp } from '../test/render';
import { API, server } from '../test/server';

describe('Dashboard page', () => {
  it('shows portfolio value, P&L, positions, equity chart and decisions', async () => {
    renderApp('/');
    expect(await screen.findByTestId('portfolio-equity')).toHaveTextContent('$10,250.50');
    expect(screen.getByTestId('portfolio-pnl')).toHaveTextContent('+$250.50 (+2.51%)');
    expect(within(screen.getByTestId('portfolio-summary')).getByTestId('mode-badge')).toHaveTextContent('PAPER');
    expect(await screen.findByTestId('position-row')).toHaveTextContent('BTC-USD');
    expect(screen.getByTestId('equity-chart')).toHaveAttribute('data-points', '4');
    expect(await screen.findAllByTestId('decision-row')).toHaveLength(1);
  });

  it("shows today's parity score and P&L divergence", async () => {
    renderApp('/');
    const panel = await screen.findByTestId('parity-panel');
    expect(await within(panel).findByTestId('parity-score')).toHaveTextContent('0.500');
    expect(within(panel).getByTestId('parity-divergence')).toHaveTextContent('$12.50');
    expect(panel).toHaveTextContent('mean slippage 25 bps');
  });

  it('shows provider spend against budget, with a reached budget marked', async () => {
    renderApp('/');
    const panel = await screen.findByTestId('spend-panel');
    const rows = await within(panel).findAllByTestId('spend-row');
    expect(rows[0]).toHaveTextContent('all providers');
    expect(rows[0]).toHaveTextContent('$1.50 of $5.00');
    expect(rows[1]).toHaveTextContent('llm');
    expect(rows[1]).toHaveTextContent('budget reached');
    expect(rows[1]).toHaveTextContent('$12.00 (no budget)');
  });

  it('expands a decision to show its votes', async () => {
    const user = userEvent.setup();
    renderApp('/');
    const row = await screen.findByTestId('decision-row');
    expect(within(row).queryByTestId('decision-votes')).not.toBeInTheDocument();
    await user.click(within(row).getByRole('button', { expanded: false }));
    const votes = within(row).getByTestId('decision-votes');
    expect(within(votes).getAllByTestId('vote-row')).toHaveLength(2);
    expect(votes).toHaveTextContent('SMA20 above SMA50');
    expect(votes).toHaveTextContent('abstained');
    expect(votes).toHaveTextContent('circuit open');
  });

  it('requests a decision for the chosen instrument', async () => {
    let body: unknown = null;
    server.use(
      http.post(`${API}/api/v1/decisions`, async ({ request }) => {
        body = await request.json();
        return HttpResponse.json(fx.decision, { status: 201 });
      }),
    );
    const user = userEvent.setup();
    renderApp('/');
    const select = await screen.findByLabelText('Instrument');
    await waitFor(() => expect(within(select).getAllByRole('option')).toHaveLength(4));
    await user.selectOptions(select, 'ETH-USD');
    await user.click(screen.getByRole('button', { name: 'Request decision' }));
    await waitFor(() => expect(body).toEqual({ instrument: 'ETH-USD' }));
  });

  it('has empty and error states per panel', async () => {
    server.use(
      http.get(`${API}/api/v1/positions`, () => HttpResponse.json({ items: [] })),
      http.get(`${API}/api/v1/decisions`, () => HttpResponse.json({ items: [], next_cursor: null })),
      http.get(`${API}/api/v1/status`, () => HttpResponse.json({ status_code: 500, detail: 'portfolio exploded' }, { status: 500 })),
    );
    renderApp('/');
    expect(await within(screen.getByTestId('positions-panel')).findByText('No open positions.')).toBeInTheDocument();
    expect(await within(screen.getByTestId('decisions-panel')).findByTestId('state-empty')).toBeInTheDocument();
    expect(await within(screen.getByTestId('portfolio-summary')).findByTestId('state-error')).toHaveTextContent('portfolio exploded (HTTP 500)');
  });

  it('runs the desk from the main page: agent state, kill switch, approvals, open orders', async () => {
    const order = {
      client_order_id: 'ffe-9', instrument: 'EUR-USD', side: 'BUY', type: 'limit', quantity: '10000', limit_price: '1.08501',
      stop_price: null, time_in_force: 'GTC', stop_loss: null, take_profit: null, decision_id: 'dec-1', status: 'accepted',
      filled_quantity: '0', average_fill_price: null, venue_order_id: null, reject_reason: null,
      created_at: '2026-01-01T03:00:00Z', updated_at: '2026-01-01T03:00:00Z',
    };
    server.use(
      http.get(`${API}/api/bot/status`, () =>
        HttpResponse.json({ ...fx.agentRunning, kill_switch: { ...fx.agentRunning.kill_switch, tripped: true, reason: 'daily loss limit', at: '2026-01-01T00:00:00Z' } }),
      ),
      http.get(`${API}/api/v1/orders`, () => HttpResponse.json({ items: [order, { ...order, client_order_id: 'ffe-8', status: 'filled' }] })),
    );
    const user = userEvent.setup();
    renderApp('/');
    const strip = await screen.findByTestId('agent-strip');
    await waitFor(() => expect(strip).toHaveAttribute('data-state', 'running'));
    expect(strip).toHaveTextContent('12 cycles');
    expect(within(strip).getByTestId('agent-strip-last-cycle')).toHaveTextContent(/^last cycle (\d+d|\d+h \d+m|\d+m \d\ds|\d+s) ago$|^last cycle just now$/);
    expect(within(strip).getByTestId('agent-strip-kill-switch')).toBeInTheDocument();

    const rows = await within(screen.getByTestId('open-orders-panel')).findAllByTestId('open-order-row');
    expect(rows).toHaveLength(1); // the filled one is not open
    await waitFor(() => expect(rows[0]).toHaveTextContent('$1.08501'));

    expect(await within(screen.getByTestId('approvals-panel')).findByTestId('approval-row')).toHaveTextContent('BTC-USD');

    const panel = screen.getByTestId('kill-switch-panel');
    await user.click(await within(panel).findByRole('button', { name: 'Reset kill switch' }));
    expect(screen.getByTestId('kill-switch-confirm')).toHaveTextContent('daily loss limit');
  });

  it('says what ffe is doing: state, last decision with its risk verdict, next decision, counts', async () => {
    const refused = { ...fx.decision, id: 'dec-9', action: 'SELL' as const, confidence: 0.61, risk: { ...fx.decision.risk!, approved: false, reason: 'nothing fits' } };
    server.use(
      http.get(`${API}/api/bot/status`, () => HttpResponse.json({ ...fx.agentRunning, last_cycle_at: new Date(Date.now() - 15_000).toISOString() })),
      http.get(`${API}/api/v1/decisions`, () => HttpResponse.json({ items: [refused, fx.decision], next_cursor: null })),
    );
    renderApp('/');
    const panel = await screen.findByTestId('activity-panel');
    expect(await within(panel).findByTestId('activity-state')).toHaveTextContent('Agent running now deciding BTC-USD');
    const last = await within(panel).findByTestId('activity-last-decision');
    expect(last).toHaveTextContent('SELL BTC-USD at 61% confidence; risk refused: nothing fits');
    expect(last).toHaveAttribute('href', '/decisions/dec-9');
    expect(within(panel).getByTestId('activity-last-cycle')).toHaveTextContent(/^Last cycle 1\ds ago: /);
    expect(within(panel).getByTestId('activity-next')).toHaveTextContent(/^next decision in 4\ds \(every 60s\)$/);
    expect(within(panel).getByTestId('activity-count-cycles')).toHaveAttribute('data-count', '12');
    await waitFor(() => expect(within(panel).getByTestId('activity-count-approvals')).toHaveAttribute('data-count', '1'));
    expect(within(panel).getByTestId('activity-count-orders')).toHaveAttribute('data-count', '0');
  });

  it('says why no decision is due when the agent is stopped', async () => {
    renderApp('/');
    const panel = await screen.findByTestId('activity-panel');
    expect(await within(panel).findByTestId('activity-next')).toHaveTextContent('stopped: no decision until started');
    expect(within(panel).getByTestId('activity-last-cycle')).toHaveTextContent(/^Last cycle never/);
  });

  it('shows the agent state on every page', async () => {
    for (const path of ['/agent-control', '/analytics', '/optimization']) {
      const { unmount } = renderApp(path);
      await waitFor(() => expect(screen.getByTestId('agent-strip')).toHaveAttribute('data-state', 'stopped'));
      unmount();
    }
  });

  it('holds an expanded decision in place while new ones arrive', async () => {
    let items = [fx.decision];
    server.use(http.get(`${API}/api/v1/decisions`, () => HttpResponse.json({ items, next_cursor: null })));
    const user = userEvent.setup();
    const { client } = renderApp('/');
    const row = await screen.findByTestId('decision-row');
    await user.click(within(row).getByRole('button', { expanded: false }));
    items = [{ ...fx.decision, id: 'dec-2' }, { ...fx.decision, id: 'dec-3' }, fx.decision];
    await client.refetchQueries({ queryKey: ['decisions'] });
    const more = await screen.findByTestId('decisions-new');
    expect(more).toHaveTextContent('Show 2 new decisions');
    const shown = screen.getAllByTestId('decision-row');
    expect(shown.map((r) => r.dataset.decisionId)).toEqual(['dec-1']);
    expect(within(shown[0]!).getByTestId('decision-votes')).toBeInTheDocument();
    await user.click(more);
    expect(screen.getAllByTestId('decision-row').map((r) => r.dataset.decisionId)).toEqual(['dec-2', 'dec-3', 'dec-1']);
  });

  it('opens a decision from its link', async () => {
    server.use(http.get(`${API}/api/v1/decisions/dec-1`, () => HttpResponse.json(fx.decision)));
    renderApp('/decisions/dec-1');
    expect(await screen.findByTestId('page-decision')).toBeInTheDocument();
    expect(await screen.findByTestId('decision-votes')).toHaveTextContent('SMA20 above SMA50');
  });
});
