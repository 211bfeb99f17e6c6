import { apiDisplayUrl, errorMessage, isApiError } from '../../api/client';
import { useHealth } from '../../api/health';
import { useUiStore } from '../../stores/ui';

/** Page-wide banners: API unreachable, API degraded/down, authentication failing. */
export function Banners() {
  const health = useHealth();
  const authError = useUiStore((s) => s.authError);
  const setDialogOpen = useUiStore((s) => s.setApiKeyDialogOpen);
  const err = health.error;
  // /health needs no key, so any failure of it means the API is dead or broken.
  const unreachable = health.isError;
  const cannotConnect = !isApiError(err) || err.isUnreachable;

  return (
    <div className="banners">
      {unreachable && (
        <div className="banner banner-bad" role="alert" data-testid="api-down-banner">
          {cannotConnect ? (
            <>
              <strong>Cannot reach the ffe API at {apiDisplayUrl()}.</strong>{' '}
              <span>Is <code>ffe serve</code> running? Retrying automatically…</span>{' '}
            </>
          ) : (
            <>
              <strong>The ffe API at {apiDisplayUrl()} is failing:</strong> <span>{errorMessage(err)}</span>{' '}
            </>
          )}
          <button type="button" className="btn btn-small" onClick={() => void health.refetch()}>
            Retry now
          </button>
        </div>
      )}
      {!unreachable && health.data && health.data.status !== 'ok' && (
        <div className={`banner ${health.data.status === 'down' ? 'banner-bad' : 'banner-warn'}`} role="status" data-testid="api-degraded-banner">
          <strong>API status: {health.data.status}.</strong>{' '}
          {Object.entries(health.data.components)
            .filter(([, c]) => c.status !== 'ok')
            .map(([name, c]) => `${name}: ${c.status}${c.detail ? ` (${c.detail})` : ''}`)
            .join('; ')}
        </div>
      )}
      {authError && (
        <div className="banner banner-warn" role="alert" data-testid="auth-banner">
          <strong>The API rejected the request: {authError}.</strong>{' '}
          <button type="button" className="btn btn-small" onClick={() => setDialogOpen(true)}>
            Enter API key
          </button>
        </div>
      )}
    </div>
  );
}
