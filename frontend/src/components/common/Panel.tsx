import type { ReactNode } from 'react';

interface PanelProps {
  title: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
}

export function Panel({ title, actions, children, className, testId }: PanelProps) {
  return (
    <section className={`panel ${className ?? ''}`.trim()} data-testid={testId}>
      <div className="panel-header">
        <h2 className="panel-title">{title}</h2>
        {actions && <div className="panel-actions">{actions}</div>}
      </div>
      <div className="panel-body">{children}</div>
    </section>
  );
}
