import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useSettingsStore } from '../../stores/settings';
import { useUiStore } from '../../stores/ui';

/** Button in the header + inline form for entering the API key (stored in localStorage). */
export function ApiKeyControl() {
  const apiKey = useSettingsStore((s) => s.apiKey);
  const open = useUiStore((s) => s.apiKeyDialogOpen);
  const setOpen = useUiStore((s) => s.setApiKeyDialogOpen);
  return (
    <div className="apikey">
      <button
        type="button"
        className={`btn btn-small ${apiKey ? '' : 'btn-ghost'}`.trim()}
        onClick={() => setOpen(!open)}
        aria-expanded={open}
        aria-controls="apikey-form"
        data-testid="api-key-button"
      >
        {apiKey ? 'API key ✓' : 'Set API key'}
      </button>
      {open && <ApiKeyForm onDone={() => setOpen(false)} />}
    </div>
  );
}

export function ApiKeyForm({ onDone }: { onDone?: () => void }) {
  const apiKey = useSettingsStore((s) => s.apiKey);
  const setApiKey = useSettingsStore((s) => s.setApiKey);
  const setAuthError = useUiStore((s) => s.setAuthError);
  const qc = useQueryClient();
  const [value, setValue] = useState(apiKey);

  const apply = (key: string) => {
    setApiKey(key);
    setAuthError(null);
    void qc.invalidateQueries();
    onDone?.();
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    apply(value);
  };

  return (
    <form id="apikey-form" className="apikey-form" onSubmit={onSubmit} aria-label="API key">
      <label htmlFor="apikey-input">API key (sent as X-API-Key, kept in this browser)</label>
      <input
        id="apikey-input"
        type="password"
        autoComplete="off"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        placeholder="FINANCE_FEEDBACK_API_KEY"
      />
      <div className="row">
        <button type="submit" className="btn btn-primary btn-small">
          Save key
        </button>
        {apiKey && (
          <button type="button" className="btn btn-small" onClick={() => { setValue(''); apply(''); }}>
            Clear key
          </button>
        )}
      </div>
    </form>
  );
}
