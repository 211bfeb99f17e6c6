import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { useSettingsStore } from '../../stores/settings';
import * as fx from '../../test/fixtures';
import { renderApp } from '../../test/render';
import { API, server } from '../../test/server';

describe('Layout', () => {
  it('shows the mode badge, navigation and circuit-breaker summary on every page', async () => {
    renderApp('/analytics');
    const header = screen.getByRole('banner');
    expect(await within(header).findByText('PAPER')).toBeInTheDocument();
    expect(within(header).getByRole('link', { name: 'Analytics' })).toHaveClass('active');
    const breakers = screen.getByTestId('circuit-breakers');
    expect(breakers).toHaveTextContent('1 open');
    expect(within(breakers).getAllByTestId('circuit-breaker')).toHaveLength(2);
  });

  it('shows LIVE prominently when the API runs live', async () => {
    server.use(http.get(`${API}/health`, () => HttpResponse.json({ ...fx.health, mode: 'live' })));
    server.use(http.get(`${API}/api/v1/status`, () => HttpResponse.json({ ...fx.portfolio, mode: 'live' })));
    renderApp('/');
    await screen.findAllByText('LIVE');
    for (const badge of screen.getAllByTestId('mode-badge')) expect(badge).toHaveAttribute('data-mode', 'live');
  });

  it('shows a clear banner, not a blank page, when the API is unreachable', async () => {
    server.use(http.all(`${API}/*`, () => HttpResponse.error()));
    renderApp('/');
    const banner = await screen.findByTestId('api-down-banner');
    expect(banner).toHaveTextContent(`Cannot reach the ffe API at ${API}`);
    // The page chrome and panel error states are still rendered.
    expect(screen.getByRole('heading', { name: 'Dashboard' })).toBeInTheDocument();
    expect((await screen.findAllByTestId('state-error')).length).toBeGreaterThan(0);
  });

  it('shows a degraded banner naming the failing component', async () => {
    server.use(
      http.get(`${API}/health`, () =>
        HttpResponse.json({ ...fx.health, status: 'degraded', components: { ...fx.health.components, broker: { status: 'down', detail: 'no route' } } }),
      ),
    );
    renderApp('/');
    expect(await screen.findByTestId('api-degraded-banner')).toHaveTextContent('broker: down (no route)');
  });

  it('asks for an API key on 401 and stores the key', async () => {
    server.use(
      http.get(`${API}/api/v1/status`, ({ request }) =>
        request.headers.get('X-API-Key') === 'good'
          ? HttpResponse.json(fx.portfolio)
          : HttpResponse.json({ status_code: 401, detail: 'invalid API key' }, { status: 401 }),
      ),
    );
    const user = userEvent.setup();
    renderApp('/');
    const banner = await screen.findByTestId('auth-banner');
    await user.click(within(banner).getByRole('button', { name: 'Enter API key' }));
    await user.type(screen.getByLabelText(/API key \(sent as X-API-Key/), 'good');
    await user.click(screen.getByRole('button', { name: 'Save key' }));
    expect(useSettingsStore.getState().apiKey).toBe('good');
    expect(await screen.findByTestId('portfolio-equity')).toHaveTextContent('$10,250.50');
    expect(screen.queryByTestId('auth-banner')).not.toBeInTheDocument();
  });
});

describe('Layout health edge cases', () => {
  it('treats a 503 health report as a report (status down), not an outage', async () => {
    server.use(http.get(`${API}/health`, () => HttpResponse.json({ ...fx.health, status: 'down' }, { status: 503 })));
    renderApp('/');
    expect(await screen.findByTestId('api-degraded-banner')).toHaveTextContent('API status: down');
    expect(screen.queryByTestId('api-down-banner')).not.toBeInTheDocument();
  });

  it('names a failing (500) health endpoint in the banner', async () => {
    server.use(http.get(`${API}/health`, () => HttpResponse.json({ status_code: 500, detail: 'boom' }, { status: 500 })));
    renderApp('/');
    expect(await screen.findByTestId('api-down-banner')).toHaveTextContent('is failing: boom (HTTP 500)');
  });
});
