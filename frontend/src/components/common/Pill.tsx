import type { ReactNode } from 'react';

export type Tone = 'good' | 'warn' | 'bad' | 'neutral' | 'info';

export function Pill({ tone = 'neutral', children, testId, title }: { tone?: Tone; children: ReactNode; testId?: string; title?: string }) {
  return (
    <span className={`pill pill-${tone}`} data-testid={testId} title={title}>
      {children}
    </span>
  );
}

export function actionTone(action: string): Tone {
  if (action === 'BUY') return 'good';
  if (action === 'SELL') return 'bad';
  return 'neutral';
}
