import { useAgentStatus } from '../../api/agent';
import { KillSwitch } from '../agent/KillSwitch';
import { Panel } from '../common/Panel';
import { QueryState } from '../common/States';

/** The kill switch on the main page: its state, and a reset behind a confirmation when tripped. */
export function KillSwitchPanel() {
  const status = useAgentStatus();
  return (
    <Panel title="Kill switch" testId="kill-switch-panel">
      <QueryState query={status} loadingLabel="Loading agent status…">
        {(s) => <KillSwitch ks={s.kill_switch} />}
      </QueryState>
    </Panel>
  );
}
