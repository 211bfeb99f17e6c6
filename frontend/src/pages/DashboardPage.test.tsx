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
});
