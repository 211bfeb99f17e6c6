import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import type { AgentStatus } from '../../api/models';
import * as fx from '../../test/fixtures';
import { renderWithProviders } from '../../test/render';
import { API, server } from '../../test/server';
import { AgentStatusPanel } from './AgentStatusPanel';

const REASON = 'drawdown 21.00% from peak 120,000.00 to 94,800.00 reached max_drawdown 20.00%';

const tripped: AgentStatus = {
  ...fx.agentStopped,
  kill_switch: {
    tripped: true,
    reason: REASON,
    at: '2026-01-01T00:00:00Z',
    tripped_by: 'risk manager (max_drawdown)',
    reset_by: null,
    reset_at: null,
  },
};

const afterReset: AgentStatus = {
  ...fx.agentStopped,
  kill_switch: {
    tripped: false,
    reason: null,
    at: null,
    tripped_by: null,
    reset_by: 'api:127.0.0.1',
    reset_at: '2026-01-01T01:00:00Z',
  },
};

/** The server: tripped until a reset arrives; counts the resets. */
function serve(resetResponse?: () => Response) {
  const calls = { reset: 0 };
  let isReset = false;
  server.use(
    http.get(`${API}/api/bot/status`, () => HttpResponse.json(isReset ? afterReset : tripped)),
    http.post(`${API}/api/bot/kill-switch/reset`, () => {
      calls.reset += 1;
      if (resetResponse) return resetResponse();
      isReset = true;
      return HttpResponse.json(afterReset);
    }),
  );
  return calls;
}

describe('KillSwitch', () => {
  it('shows who tripped it, why and when, with a reset button', async () => {
    serve();
    renderWithProviders(<AgentStatusPanel />);
    const ks = await screen.findByTestId('kill-switch');
    expect(ks).toHaveAttribute('data-tripped', 'true');
    const trip = within(ks).getByTestId('kill-switch-trip');
    expect(trip).toHaveTextContent('by risk manager (max_drawdown)');
    expect(trip).toHaveTextContent(REASON);
    expect(trip).toHaveTextContent('2026');
    expect(within(ks).getByRole('button', { name: 'Reset kill switch' })).toBeEnabled();
  });

  it('asks for confirmation, and cancelling resets nothing', async () => {
    const calls = serve();
    const user = userEvent.setup();
    renderWithProviders(<AgentStatusPanel />);
    await user.click(await screen.findByRole('button', { name: 'Reset kill switch' }));
    const dialog = screen.getByRole('dialog', { name: 'Reset the kill switch?' });
    expect(within(dialog).getByTestId('kill-switch-confirm-trip')).toHaveTextContent(REASON);
    expect(within(dialog).getByTestId('kill-switch-confirm-trip')).toHaveTextContent('risk manager (max_drawdown)');
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Reset kill switch' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(calls.reset).toBe(0);
    expect(screen.getByTestId('kill-switch')).toHaveAttribute('data-tripped', 'true');
  });

  it('confirming calls POST /api/bot/kill-switch/reset once and shows the reset', async () => {
    const calls = serve();
    const user = userEvent.setup();
    renderWithProviders(<AgentStatusPanel />);
    await user.click(await screen.findByRole('button', { name: 'Reset kill switch' }));
    await user.click(screen.getByRole('button', { name: 'Confirm reset' }));
    await waitFor(() => expect(screen.getByTestId('kill-switch')).toHaveAttribute('data-tripped', 'false'));
    expect(calls.reset).toBe(1);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Reset kill switch' })).not.toBeInTheDocument();
    expect(screen.getByTestId('kill-switch-last-reset')).toHaveTextContent('last reset by api:127.0.0.1');
    expect(screen.getByRole('button', { name: 'Start agent' })).toBeEnabled();
  });

  it('shows the server error when the reset fails and stays tripped', async () => {
    serve(() => HttpResponse.json({ status_code: 503, detail: 'storage is unavailable' }, { status: 503 }));
    const user = userEvent.setup();
    renderWithProviders(<AgentStatusPanel />);
    await user.click(await screen.findByRole('button', { name: 'Reset kill switch' }));
    await user.click(screen.getByRole('button', { name: 'Confirm reset' }));
    expect(await screen.findByTestId('kill-switch-error')).toHaveTextContent('storage is unavailable');
    expect(screen.getByTestId('kill-switch')).toHaveAttribute('data-tripped', 'true');
  });

  it('offers no reset while the switch is armed', async () => {
    renderWithProviders(<AgentStatusPanel />);
    const ks = await screen.findByTestId('kill-switch');
    expect(ks).toHaveTextContent('armed (not tripped)');
    expect(screen.queryByRole('button', { name: 'Reset kill switch' })).not.toBeInTheDocument();
  });
});
