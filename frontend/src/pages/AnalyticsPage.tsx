import { CalibrationChart } from '../components/analytics/CalibrationChart';
import { DrawdownPanel } from '../components/analytics/DrawdownPanel';
import { ProviderTable } from '../components/analytics/ProviderTable';
import { TradeList } from '../components/analytics/TradeList';
import { ValuePanel } from '../components/analytics/ValuePanel';
import { WeightsChart } from '../components/analytics/WeightsChart';

export function AnalyticsPage() {
  return (
    <div className="page" data-testid="page-analytics">
      <h1 className="page-title">Analytics</h1>
      <div className="grid">
        <ProviderTable />
        <ValuePanel />
        <WeightsChart />
        <CalibrationChart />
        <div className="span-2">
          <DrawdownPanel />
        </div>
        <TradeList />
      </div>
    </div>
  );
}
