import { BacktestForm } from '../components/optimization/BacktestForm';
import { JobsList } from '../components/optimization/JobsList';
import { JobView } from '../components/optimization/JobView';
import { LiveGatePanel } from '../components/optimization/LiveGatePanel';
import { ReplayForm } from '../components/optimization/ReplayForm';
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
        <Panel title="Replay my ensemble" testId="replay-form-panel">
          <ReplayForm onSubmitted={(job) => setJobId(job.id)} />
        </Panel>
        <JobsList selectedId={jobId} onSelect={setJobId} />
        <LiveGatePanel />
        <Panel title="Result" className="span-2" testId="backtest-job-panel">
          {jobId ? <JobView key={jobId} jobId={jobId} /> : <EmptyState>Run a backtest or a replay to see its result here.</EmptyState>}
        </Panel>
      </div>
    </div>
  );
}
