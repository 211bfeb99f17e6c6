import { AgentStatusPanel } from '../components/agent/AgentStatusPanel';
import { ApprovalHistory, ApprovalsPanel } from '../components/agent/ApprovalsPanel';

export function AgentControlPage() {
  return (
    <div className="page" data-testid="page-agent-control">
      <h1 className="page-title">Agent Control</h1>
      <div className="grid">
        <AgentStatusPanel />
        <ApprovalsPanel />
        <div className="span-2">
          <ApprovalHistory />
        </div>
      </div>
    </div>
  );
}
