import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router';

import { useSession } from '../auth/session';
import { InvestigationList } from '../components/InvestigationList';
import { MyRequests } from '../components/policy/MyRequests';
import type { Scope } from '../components/InvestigationList';
import { Empty, Loading } from '../components/Status';
import { useTitle } from '../lib/title';

interface SectionProps {
  title: string;
  intro: ReactNode;
  scope: Scope;
  empty: ReactNode;
  needs?: 'login' | 'staff';
  /** What follows the list (My Data: the user's requests). */
  after?: ReactNode;
}

function SectionPage({ title, intro, scope, empty, needs, after }: SectionProps) {
  useTitle(title);
  const { user, ready, isStaff } = useSession();
  const location = useLocation();
  const next = encodeURIComponent(location.pathname + location.search);
  let content: ReactNode = <InvestigationList key={scope} scope={scope} empty={empty} />;
  if (needs && !ready) content = <Loading what="your account" />;
  else if (needs && user.anonymous)
    content = (
      <Empty>
        <Link to={`/login?next=${next}`}>Log in</Link> to see {title.toLowerCase()}.
      </Empty>
    );
  else if (needs === 'staff' && !isStaff)
    content = <Empty>This section is for beamline staff; your account has no beamline.</Empty>;
  return (
    <>
      <h1>{title}</h1>
      <p className="lead">{intro}</p>
      {content}
      {after}
    </>
  );
}

export function MyDataPage() {
  return (
    <SectionPage
      title="My Data"
      scope="mine"
      needs="login"
      intro="The investigations you take part in, as principal investigator, co-investigator, collaborator or local contact."
      empty="No investigations yet — data appears here once your experiment starts and you are listed as a participant of its proposal."
      after={<MyRequests />}
    />
  );
}

export function OpenDataPage() {
  return (
    <SectionPage
      title="Open Data"
      scope="open"
      intro="Investigations whose embargo has ended: anyone may look at their data; downloading needs a registered account."
      empty="No open data yet — investigations appear here when their embargo ends, three years after the experiment."
    />
  );
}

export function ClosedDataPage() {
  return (
    <SectionPage
      title="Closed Data"
      scope="closed"
      intro="Investigations still under embargo: their title, team and beamline are public; their datasets and files stay with the experimental team until the release date."
      empty="No investigation is under embargo."
    />
  );
}

export function BeamlinesPage() {
  const { user } = useSession();
  const names = user.instruments.length ? user.instruments.join(', ') : 'your beamlines';
  return (
    <SectionPage
      title="My Beamlines"
      scope="beamline"
      needs="staff"
      intro={
        <>
          Every investigation on {names}, for local contacts and instrument scientists.
          {user.instruments.length ? (
            <>
              {' '}
              Beamline logbooks:{' '}
              {user.instruments.map((name, i) => (
                <span key={name}>
                  {i ? ', ' : ''}
                  <Link to={`/beamlines/${name}/logbook`}>{name}</Link>
                </span>
              ))}
              .
            </>
          ) : null}
        </>
      }
      empty="No investigation on your beamlines yet — they appear here once a proposal is scheduled."
    />
  );
}
