import { Link, useParams } from 'react-router';
import { useDecision } from '../api/decisions';
import { DecisionRow } from '../components/dashboard/DecisionsList';
import { Panel } from '../components/common/Panel';
import { QueryState } from '../components/common/States';

/** One decision with its votes (linked from an approval). */
export function DecisionPage() {
  const { decisionId } = useParams();
  const decision = useDecision(decisionId);
  return (
    <div className="page" data-testid="page-decision">
      <h1 className="page-title">Decision</h1>
      <Panel title={decisionId ?? ''} className="span-2" actions={<Link to="/">Dashboard</Link>}>
        <QueryState query={decision} loadingLabel="Loading decision…">
          {(d) => (
            <ul className="decision-list">
              <DecisionRow decision={d} defaultOpen />
            </ul>
          )}
        </QueryState>
      </Panel>
    </div>
  );
}
