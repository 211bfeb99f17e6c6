import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { renderApp } from '../test/render';
import { API, server } from '../test/server';

describe('Analytics page', () => {
  it('shows provider performance, weights, calibration, drawdown and trades', async () => {
    renderApp('/analytics');
    const rows = await screen.findAllByTestId('provider-row');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('trend');
    expect(rows[0]).toHaveTextContent('60.0%');
    expect(rows[1]).toHaveTextContent('open');
    // 28 scored votes: marked provisional; 30 are not
    expect(within(rows[1]!).getByTestId('provider-provisional')).toHaveTextContent('provisional');
    expect(within(rows[0]!).queryByTestId('provider-provisional')).toBeNull();
    // costs.demote holds llm at the weight floor: a pill, and the reason
    const demoted = within(rows[1]!).getByTestId('provider-demoted');
    expect(demoted).toHaveTextContent('demoted');
    expect(demoted).toHaveAttribute('title', expect.stringContaining('does not cover its cost 12.00 USD'));
    expect(within(rows[1]!).getByTestId('provider-demoted-reason')).toHaveTextContent('Demoted: trade P&L 2.00 over 30d');
    expect(within(rows[0]!).queryByTestId('provider-demoted')).toBeNull();
    expect(screen.getByTestId('weights-chart')).toBeInTheDocument();
    expect(screen.getByTestId('calibration-chart')).toBeInTheDocument();
    expect(await screen.findByTestId('drawdown-chart')).toHaveAttribute('data-points', '4');
    // the server's drawdowns, plotted as given: the last point's now, the status's deepest
    expect(screen.getByTestId('drawdown-panel')).toHaveTextContent('current 0.00% · max 1.20%');
    expect(await screen.findByTestId('fill-row')).toHaveTextContent('BTC-USD');
  });

  it('shows value for money: Brier improvement and trade P&L per dollar per provider', async () => {
    renderApp('/analytics');
    const rows = await within(screen.getByTestId('value-panel')).findAllByTestId('value-row');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('llm');
    expect(rows[0]).toHaveTextContent('$12.00');
    expect(within(rows[0]!).getByTestId('value-pnl-per-usd')).toHaveTextContent('5');
    expect(within(rows[1]!).getByTestId('value-pnl-per-usd')).toHaveTextContent('—');
    expect(screen.getByTestId('value-panel')).toHaveTextContent('over the last 30 days');
  });

  it('shows empty states when nothing is scored yet', async () => {
    server.use(
      http.get(`${API}/api/v1/providers`, () => HttpResponse.json({ items: [], weight_history: [] })),
      http.get(`${API}/api/v1/fills`, () => HttpResponse.json({ items: [] })),
    );
    renderApp('/analytics');
    expect(await within(screen.getByTestId('providers-panel')).findByText('No providers registered.')).toBeInTheDocument();
    expect(within(screen.getByTestId('weights-panel')).getByTestId('state-empty')).toBeInTheDocument();
    expect(within(screen.getByTestId('calibration-panel')).getByTestId('state-empty')).toBeInTheDocument();
    expect(await within(screen.getByTestId('trades-panel')).findByText('No trades yet.')).toBeInTheDocument();
  });
});
