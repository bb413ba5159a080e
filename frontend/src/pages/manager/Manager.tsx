import { Link, NavLink, Navigate, Outlet, useLocation } from 'react-router';

import { useSession } from '../../auth/session';
import { InvestigationList } from '../../components/InvestigationList';
import { Empty, Loading } from '../../components/Status';
import { useTitle } from '../../lib/title';

const TABS = [
  { to: 'statistics', label: 'Statistics' },
  { to: 'users', label: 'Users' },
  { to: 'proposals', label: 'Proposals waiting' },
  { to: 'policy', label: 'Policy' },
  { to: 'audit', label: 'Audit' },
];

/** The data manager's section: statistics, accounts, placeholder proposals, the data policy and its audit trail. */
export function ManagerLayout() {
  useTitle('Manager');
  const { user, ready, isManager } = useSession();
  const location = useLocation();
  if (!ready) return <Loading what="your account" />;
  if (user.anonymous)
    return (
      <Empty>
        <Link to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`}>Log in</Link> as a data
        manager to see this section.
      </Empty>
    );
  if (!isManager) return <Empty>This section is for the facility's data managers; your account is not one.</Empty>;
  return (
    <>
      <h1>Manager</h1>
      <nav className="tabs" aria-label="Manager">
        {TABS.map((t) => (
          <NavLink key={t.to} to={t.to} className="tab">
            {t.label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </>
  );
}

export function ManagerIndex() {
  return <Navigate to="statistics" replace />;
}

export function ProposalsPanel() {
  return (
    <>
      <p className="lead">
        Placeholder proposals: investigations created ahead of a decision (data registered before its proposal exists, or
        beam time not yet confirmed). Each waits for a manager to confirm it or merge it into the real one.
      </p>
      <InvestigationList
        scope="all"
        placeholder
        empty="No proposal is waiting for a decision — placeholders appear here when data arrives for a proposal the catalogue does not know yet."
      />
    </>
  );
}
