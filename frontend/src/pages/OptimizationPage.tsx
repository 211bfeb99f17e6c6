import { BacktestForm } from '../components/optimization/BacktestForm';
import { JobsList } from '../components/optimization/JobsList';
import { JobView } from '../components/optimization/JobView';
import { Panel } from '../components/common/Panel';
import { EmptyState } from '../components/common/States';
import { useSettingsStore } from '../stores/settings';

export function OptimizationPage() {
  const jobId = useSettingsStore((s) => s.lastBacktestJobId);
  const setJobId = useSettingsStore((s) => s.setLastBacktestJobId);
  return (
    <div className="page" data-testid="page-optimization">
      <h1 className="page-title">Optimization</h1>
      <div className="grid">
        <Panel title="New run" testId="backtest-form-panel">
          <BacktestForm onSubmitted={(job) => setJobId(job.id)} />
        </Panel>
        <JobsList selectedId={jobId} onSelect={setJobId} />
        <Panel title="Result" className="span-2" testId="backtest-job-panel">
          {jobId ? <JobView key={jobId} jobId={jobId} /> : <EmptyState>Run a backtest to see its equity, drawdown and statistics here.</EmptyState>}
        </Panel>
      </div>
    </div>
  );
}
