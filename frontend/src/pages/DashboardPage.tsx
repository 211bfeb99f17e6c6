import { DecisionsList } from '../components/dashboard/DecisionsList';
import { EquityPanel } from '../components/dashboard/EquityPanel';
import { PortfolioSummary } from '../components/dashboard/PortfolioSummary';
import { PositionsTable } from '../components/dashboard/PositionsTable';

export function DashboardPage() {
  return (
    <div className="page" data-testid="page-dashboard">
      <h1 className="page-title">Dashboard</h1>
      <div className="grid">
        <PortfolioSummary />
        <PositionsTable />
        <EquityPanel />
        <DecisionsList />
      </div>
    </div>
  );
}
