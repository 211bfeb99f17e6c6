import { useSpend } from '../../api/costs';
import type { SpendLine } from '../../api/models';
import { formatMoney } from '../../lib/format';
import { Panel } from '../common/Panel';
import { Pill } from '../common/Pill';
import { QueryState } from '../common/States';

const against = (spent: number, budget: number | null | undefined) =>
  budget == null ? `${formatMoney(spent)} (no budget)` : `${formatMoney(spent)} of ${formatMoney(budget)}`;

function Line({ line }: { line: SpendLine }) {
  return (
    <tr data-testid="spend-row" data-scope={line.scope}>
      <td>{line.scope === '*' ? 'all providers' : line.scope}</td>
      <td className="num">{against(line.spent_today_usd, line.daily_budget_usd)}</td>
      <td className="num">{against(line.spent_month_usd, line.monthly_budget_usd)}</td>
      <td>{line.exhausted ? <Pill tone="bad">budget reached</Pill> : <Pill tone="good">ok</Pill>}</td>
    </tr>
  );
}

/** Provider spend today and this month against the configured budgets (costs.budgets). */
export function SpendPanel() {
  const spend = useSpend();
  return (
    <Panel title="Spend against budget" testId="spend-panel">
      <QueryState query={spend} loadingLabel="Loading spend…">
        {(s) => (
          <div className="table-wrap">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">Scope</th>
                  <th scope="col" className="num">Today</th>
                  <th scope="col" className="num">This month</th>
                  <th scope="col">Budget</th>
                </tr>
              </thead>
              <tbody>
                <Line line={s.total} />
                {s.providers.map((p) => (
                  <Line key={p.scope} line={p} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </Panel>
  );
}
