import { useState } from 'react';
import type { ReactNode } from 'react';
import { Link } from 'react-router';

import { apiGet } from '../../api/client';
import type { PlanStep } from '../../api/types';
import { useApi } from '../../api/useApi';
import { DecideButtons } from '../../components/policy/Decide';
import { Empty, ErrorMessage, Loading } from '../../components/Status';
import { formatBytes, formatCount, formatDate, formatDateTime, humanise } from '../../lib/format';
import { useUrlQuery } from '../../lib/query';
import { useTitle } from '../../lib/title';

/** What each step of a pass does, and what its ids name. */
const STEPS: Record<string, { label: string; text: string; link?: 'investigations' | 'datasets' }> = {
  resume: { label: 'Resume', text: 'finish the work a stopped pass left half-way' },
  release: { label: 'Release', text: 'release investigations whose embargo ended: data opens, DOI findable', link: 'investigations' },
  doi: { label: 'DOIs', text: 'give a DOI to investigations without one', link: 'investigations' },
  sync: { label: 'DOI sync', text: 'send the registry the DOIs whose last call failed' },
  archive: { label: 'Archive', text: 'pack datasets past their time on disk into the archive', link: 'datasets' },
  delete: { label: 'Delete', text: 'delete data not kept, or past its retention', link: 'datasets' },
  restore: { label: 'Restore', text: 'bring archived datasets back online, as asked', link: 'datasets' },
};
const STEP_ORDER = Object.keys(STEPS);

function stepRank(name: string): number {
  const rank = STEP_ORDER.indexOf(name);
  return rank < 0 ? STEP_ORDER.length : rank;
}

function NextPass() {
  const query = useUrlQuery();
  const asOf = query.get('as_of');
  const plan = useApi(`plan-${asOf}`, (signal) =>
    apiGet('/api/policy/plan', { query: { as_of: asOf || undefined }, signal }),
  );
  let body: ReactNode;
  if (plan.error) body = <ErrorMessage error={plan.error} what="the plan of the next pass" />;
  else if (!plan.data) body = <Loading what="the plan" />;
  else {
    const steps = Object.entries(plan.data.steps).sort(([a], [b]) => stepRank(a) - stepRank(b) || a.localeCompare(b));
    const total = steps.reduce((sum, [, step]) => sum + step.count, 0);
    body = (
      <>
        <p className="small" data-testid="plan-as-of">
          As of <strong>{formatDate(plan.data.as_of)}</strong>:{' '}
          {total === 0 ? 'nothing to do.' : `${formatCount(total)} objects to handle.`}
        </p>
        <div className="table-wrap">
          <table className="data-table" data-testid="plan-table">
            <caption className="visually-hidden">What the next pass would do, step by step</caption>
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col" className="num">
                  Count
                </th>
                <th scope="col">First</th>
              </tr>
            </thead>
            <tbody>
              {steps.map(([name, step]) => {
                const link = STEPS[name]?.link;
                return (
                  <tr key={name} data-testid="plan-step" data-step={name} data-count={step.count}>
                    <th scope="row">
                      {STEPS[name]?.label ?? humanise(name)}
                      <div className="muted small">{STEPS[name]?.text}</div>
                    </th>
                    <td className="num">{formatCount(step.count)}</td>
                    <td>
                      {step.first.length === 0 ? (
                        <span className="muted">—</span>
                      ) : (
                        <span className="id-list">
                          {step.first.map((id) =>
                            link ? (
                              <Link key={id} to={`/${link}/${id}`} className="code">
                                {id}
                              </Link>
                            ) : (
                              <span key={id} className="code">
                                {id}
                              </span>
                            ),
                          )}
                          {step.count > step.first.length ? <span className="muted">…</span> : null}
                        </span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </>
    );
  }
  return (
    <section className="card" aria-labelledby="plan-title" data-testid="policy-plan">
      <div className="card-heading">
        <h2 id="plan-title">Next pass</h2>
        <label className="inline-label small">
          Plan as of&nbsp;
          <input type="date" value={asOf} onChange={(e) => query.update({ as_of: e.target.value || null })} />
        </label>
      </div>
      <p className="muted small">
        The pass runs every day inside <code>fairbeam serve</code>; <code>fairbeam policy run --dry-run</code> prints the
        same plan, <code>fairbeam policy run</code> runs it now.
      </p>
      {body}
    </section>
  );
}

/** One count of a pass's summary: bytes in units, a plan's step by its count. */
function countText(name: string, value: unknown): string {
  if (typeof value === 'number') return name.endsWith('_bytes') ? formatBytes(value) : formatCount(value);
  if (value && typeof value === 'object' && 'count' in value) return formatCount((value as PlanStep).count);
  return JSON.stringify(value);
}

/** What a pass did (its non-zero counts), or for a dry run what it would have done. */
function Summary({ summary }: { summary: Record<string, unknown> }) {
  const plan = summary.plan && typeof summary.plan === 'object' ? (summary.plan as Record<string, unknown>) : null;
  const entries = Object.entries(plan ?? summary).filter(([, value]) => value !== 0 && (value as PlanStep)?.count !== 0);
  if (entries.length === 0) return <span className="muted">nothing to do</span>;
  return (
    <span className="summary-counts">
      {plan ? <span className="muted">would:</span> : null}
      {entries.map(([name, value]) => (
        <span key={name} className="nowrap">
          {humanise(name)}: <strong>{countText(name, value)}</strong>
        </span>
      ))}
    </span>
  );
}

function RecentPasses() {
  const passes = useApi('passes', (signal) => apiGet('/api/policy/passes', { query: { limit: 10 }, signal }));
  let body: ReactNode;
  if (passes.error) body = <ErrorMessage error={passes.error} what="the recent passes" />;
  else if (!passes.data) body = <Loading what="the recent passes" />;
  else if (passes.data.items.length === 0)
    body = <Empty>No pass has run yet: the first runs within a day of starting the server, or with `fairbeam policy run`.</Empty>;
  else
    body = (
      <div className="table-wrap">
        <table className="data-table" data-testid="pass-table">
          <caption className="visually-hidden">The most recent policy passes, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Pass</th>
              <th scope="col">As of</th>
              <th scope="col">Started</th>
              <th scope="col">Finished</th>
              <th scope="col">By</th>
              <th scope="col">Status</th>
              <th scope="col">Summary</th>
            </tr>
          </thead>
          <tbody>
            {passes.data.items.map((p) => (
              <tr key={p.id} data-testid="pass-row" data-id={p.id} data-status={p.status}>
                <td className="code">{p.id}</td>
                <td className="nowrap">{formatDate(p.as_of)}</td>
                <td className="nowrap">{formatDateTime(p.started)}</td>
                <td className="nowrap">{formatDateTime(p.finished)}</td>
                <td>
                  {p.trigger}
                  {p.dry_run ? <span className="tag">dry run</span> : null}
                </td>
                <td>
                  <span className={`tag tag-status-${p.status}`}>{p.status}</span>
                  {p.error ? <div className="status-error small">{p.error}</div> : null}
                </td>
                <td>
                  <Summary summary={p.summary} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  return (
    <section className="card" aria-labelledby="passes-title" data-testid="policy-passes">
      <h2 id="passes-title">Recent passes</h2>
      {body}
    </section>
  );
}

function PendingExtensions({ version, onDecided }: { version: number; onDecided: () => void }) {
  const list = useApi(`pending-extensions-${version}`, (signal) =>
    apiGet('/api/embargo-extensions', { query: { status: 'pending', limit: 100 }, signal }),
  );
  if (list.error) return <ErrorMessage error={list.error} what="the embargo extension requests" />;
  if (!list.data) return <Loading what="the embargo extension requests" />;
  if (list.data.items.length === 0) return <p className="muted small">No embargo extension is waiting.</p>;
  return (
    <ul className="requests" aria-label="Embargo extensions waiting for a decision">
      {list.data.items.map((x) => (
        <li key={x.id} data-testid="pending-extension" data-id={x.id} data-investigation={x.investigation}>
          <div>
            <Link to={`/investigations/${x.investigation}`} className="code">
              {x.code}
            </Link>{' '}
            from {formatDate(x.previous_release_date)} to <strong>{formatDate(x.release_date)}</strong>{' '}
            <span className="muted small">
              asked by {x.requested_by ?? 'a former account'} on {formatDateTime(x.created)}
            </span>
          </div>
          <div className="small reason">{x.reason}</div>
          <DecideButtons kind="embargo-extensions" id={x.id} what={`the extension of ${x.code}`} onDecided={onDecided} />
        </li>
      ))}
    </ul>
  );
}

function PendingDoiRequests({ version, onDecided }: { version: number; onDecided: () => void }) {
  const list = useApi(`pending-dois-${version}`, (signal) =>
    apiGet('/api/doi-requests', { query: { status: 'pending', limit: 100 }, signal }),
  );
  if (list.error) return <ErrorMessage error={list.error} what="the DOI requests" />;
  if (!list.data) return <Loading what="the DOI requests" />;
  if (list.data.items.length === 0) return <p className="muted small">No DOI request is waiting.</p>;
  return (
    <ul className="requests" aria-label="DOI requests waiting for a decision">
      {list.data.items.map((r) => (
        <li key={r.id} data-testid="pending-doi" data-id={r.id}>
          <div>
            <strong>{r.title}</strong>{' '}
            <span className="muted small">
              {formatCount(r.dataset_count)} datasets · asked by {r.requested_by ?? 'a former account'} on{' '}
              {formatDateTime(r.created)}
            </span>
          </div>
          {r.description ? <div className="small reason">{r.description}</div> : null}
          <DecideButtons kind="doi-requests" id={r.id} what={`the DOI request “${r.title}”`} onDecided={onDecided} />
        </li>
      ))}
    </ul>
  );
}

function ActiveRestores({ version }: { version: number }) {
  const queued = useApi(`restores-${version}`, (signal) =>
    Promise.all(
      ['queued', 'running', 'failed'].map((status) =>
        apiGet('/api/restores', { query: { status, limit: 50 }, signal }),
      ),
    ).then((pages) => pages.flatMap((p) => p.items)),
  );
  if (queued.error) return <ErrorMessage error={queued.error} what="the restores" />;
  if (!queued.data) return <Loading what="the restores" />;
  if (queued.data.length === 0) return <p className="muted small">No restore is queued or running.</p>;
  return (
    <ul className="requests" aria-label="Restores queued, running or failed">
      {queued.data.map((r) => (
        <li key={r.id} data-testid="active-restore" data-status={r.status}>
          <span className={`tag tag-status-${r.status}`}>{r.status}</span> restore {r.id} of dataset{' '}
          <Link to={`/datasets/${r.dataset}`} className="code">
            {r.dataset}
          </Link>{' '}
          <span className="muted small">asked {formatDateTime(r.created)}</span>
          {r.error ? <div className="status-error small">{r.error}</div> : null}
        </li>
      ))}
    </ul>
  );
}

function PendingRequests() {
  const [version, setVersion] = useState(0);
  const refresh = () => setVersion((v) => v + 1);
  return (
    <section className="card" aria-labelledby="requests-title" data-testid="policy-requests">
      <div className="card-heading">
        <h2 id="requests-title">Pending requests</h2>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <h3>Embargo extensions</h3>
      <PendingExtensions version={version} onDecided={refresh} />
      <h3>DOIs on collections</h3>
      <PendingDoiRequests version={version} onDecided={refresh} />
      <h3>Restores from the archive</h3>
      <p className="muted small">Restores need no decision: the server runs them as they come.</p>
      <ActiveRestores version={version} />
    </section>
  );
}

/** The data policy for its managers: the next pass, the recent ones, and requests to decide. */
export function PolicyPanel() {
  useTitle('Data policy');
  return (
    <div data-testid="policy-page">
      <p className="lead">
        The data policy: embargo, release with a DOI, archive and retention, carried out by a daily pass. See the{' '}
        <Link to="/manager/audit">audit trail</Link> for every step it took.
      </p>
      <NextPass />
      <PendingRequests />
      <RecentPasses />
    </div>
  );
}
