// A failed backtest job's error in words. The worker reports `ExceptionName: message`.

const KINDS: Record<string, string> = {
  ValidationFailed: 'The request was not valid',
  ValueError: 'A value was not valid',
  TypeError: 'A parameter had the wrong type',
  KeyError: 'Something named was not found',
  ZeroDivisionError: 'The data left nothing to compute',
  MemoryError: 'The job ran out of memory',
  TimeoutError: 'The job took too long',
  RuntimeError: 'The backtest worker failed',
};

/** "ValueError: grid: fast must be < slow" → "A value was not valid: grid: fast must be < slow." */
export function jobErrorInWords(error: string | null | undefined): string {
  if (!error || !error.trim()) return 'The job failed without saying why.';
  const text = error.trim();
  const match = /^([A-Z][A-Za-z]*(?:Error|Exception|Failed)):\s*(.*)$/s.exec(text);
  if (!match) return /[.!?]$/.test(text) ? text : `${text}.`;
  const [, kind = '', message = ''] = match;
  const words = KINDS[kind] ?? 'The job failed';
  const detail = message.trim().replace(/^['"](.*)['"]$/s, '$1');
  if (!detail) return `${words}.`;
  return `${words}: ${detail}${/[.!?]$/.test(detail) ? '' : '.'}`;
}
