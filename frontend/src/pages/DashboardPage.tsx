import { ApprovalsPanel } from '../components/agent/ApprovalsPanel';
import { ActivityPanel } from '../components/dashboard/ActivityPanel';
import { DecisionsList } from '../components/dashboard/DecisionsList';
import { EquityPanel } from '../components/dashboard/EquityPanel';
import { KillSwitchPanel } from '../components/dashboard/KillSwitchPanel';
import { OpenOrders } from '../components/dashboard/OpenOrders';
import { ParityPanel } from '../components/dashboard/ParityPanel';
import { PortfolioSummary } from '../components/dashboard/PortfolioSummary';
import { PositionsTable } from '../components/dashboard/PositionsTable';
import { SpendPanel } from '../components/dashboard/SpendPanel';

export function DashboardPage() {
  return (
    <div className="page" data-testid="page-dashboard">
      <h1 className="page-title">Dashboard</h1>
      <div className="grid">
        <ActivityPanel />
        <PortfolioSummary />
        <KillSwitchPanel />
        <ApprovalsPanel />
        <PositionsTable />
        <OpenOrders />
        <EquityPanel />
        <ParityPanel />
        <SpendPanel />
        <DecisionsList />
      </div>
    </div>
  );
}
