import { Link } from 'react-router';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { apiGet } from '../../api/client';
import type { Stats, TimelinePoint } from '../../api/types';
import { useApi } from '../../api/useApi';
import { ErrorMessage, Empty, Loading } from '../../components/Status';
import { formatBytes, formatCount, formatDecimal } from '../../lib/format';
import { useUrlQuery } from '../../lib/query';

interface Figure {
  key: keyof Stats;
  label: string;
  format: (value: number) => string;
}

// The two panels facility staff know: totals, then what an average dataset looks like.
const FIGURES: Figure[] = [
  { key: 'datasets', label: 'Datasets', format: formatCount },
  { key: 'instruments', label: 'Beamlines', format: formatCount },
  { key: 'volume_bytes', label: 'Total volume', format: formatBytes },
  { key: 'files', label: 'Files', format: formatCount },
  { key: 'avg_files', label: 'Files per dataset, average', format: formatDecimal },
  { key: 'max_files', label: 'Files per dataset, maximum', format: formatCount },
  { key: 'avg_volume', label: 'Volume per dataset, average', format: formatBytes },
  { key: 'max_volume', label: 'Volume per dataset, maximum', format: formatBytes },
  { key: 'avg_parameters', label: 'Metadata fields per dataset, average', format: formatDecimal },
];

const PALETTE = ['#1d4ed8', '#f59e0b', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#ea580c', '#475569'];

function StatsPanel({ since, title }: { since: '7d' | 'all'; title: string }) {
  const stats = useApi(`stats-${since}`, (signal) => apiGet('/api/stats', { query: { since }, signal }));
  return (
    <section className="card stats-panel" data-testid={`stats-${since}`} aria-labelledby={`stats-${since}-title`}>
      <h2 id={`stats-${since}-title`}>{title}</h2>
      {stats.error ? <ErrorMessage error={stats.error} what="the statistics" /> : null}
      {!stats.data && !stats.error ? <Loading what="statistics" /> : null}
      {stats.data ? (
        <dl className="stat-grid">
          {FIGURES.map((f) => {
            const value = stats.data![f.key] as number;
            return (
              <div key={f.key} className="stat">
                <dt>{f.label}</dt>
                <dd data-testid={`stat-${f.key.replace(/_/g, '-')}`} data-value={String(value)}>
                  {f.format(value)}
                </dd>
              </div>
            );
          })}
        </dl>
      ) : null}
    </section>
  );
}

type Row = Record<string, number | string>;

/** Timeline points → one row per period with a column per beamline (for stacked bars). */
function pivot(points: TimelinePoint[], measure: 'datasets' | 'volume_bytes'): { rows: Row[]; instruments: string[] } {
  const instruments = [...new Set(points.map((p) => p.instrument))].sort();
  const byPeriod = new Map<string, Row>();
  for (const p of points) {
    const row = byPeriod.get(p.period) ?? { period: p.period };
    row[p.instrument] = ((row[p.instrument] as number | undefined) ?? 0) + p[measure];
    byPeriod.set(p.period, row);
  }
  // Periods without datasets still take their place on the axis, so time reads evenly.
  const periods = [...byPeriod.keys()].sort();
  const rows = periods.length ? everyPeriod(periods[0], periods[periods.length - 1]).map((period) => byPeriod.get(period) ?? { period }) : [];
  return { rows, instruments };
}

/** "2021-11", "2021-12", "2022-01"… (or "2021", "2022"…) from the first to the last. */
function everyPeriod(first: string, last: string): string[] {
  const monthly = first.length > 4;
  const periods: string[] = [];
  let [year, month] = [Number(first.slice(0, 4)), monthly ? Number(first.slice(5, 7)) : 1];
  for (let i = 0; i < 2400; i += 1) {
    const period = monthly ? `${year}-${String(month).padStart(2, '0')}` : String(year);
    periods.push(period);
    if (period >= last) break;
    if (monthly && month < 12) month += 1;
    else [year, month] = [year + 1, 1];
  }
  return periods;
}

function TimelineChart({ points, measure, title }: { points: TimelinePoint[]; measure: 'datasets' | 'volume_bytes'; title: string }) {
  const { rows, instruments } = pivot(points, measure);
  const format = measure === 'volume_bytes' ? formatBytes : formatCount;
  return (
    <figure className="chart" data-testid={`chart-${measure.replace(/_/g, '-')}`}>
      <figcaption>{title}</figcaption>
      <div className="chart-body" role="img" aria-label={`${title}, stacked by beamline, ${rows.length} periods`}>
        <ResponsiveContainer width="100%" height={300}>
          <BarChart data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="period" tick={{ fontSize: 12 }} minTickGap={12} />
            <YAxis tickFormatter={(v: number) => format(v)} tick={{ fontSize: 12 }} width={measure === 'volume_bytes' ? 72 : 48} />
            <Tooltip formatter={(v) => format(Number(v))} />
            <Legend />
            {instruments.map((name, i) => (
              <Bar key={name} dataKey={name} stackId="a" fill={PALETTE[i % PALETTE.length]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

function Timelines() {
  const query = useUrlQuery();
  const by = query.get('by') === 'year' ? 'year' : 'month';
  const timeline = useApi(`timeline-${by}`, (signal) => apiGet('/api/stats/timeline', { query: { by }, signal }));
  return (
    <section className="card" aria-labelledby="timeline-title">
      <div className="card-heading">
        <h2 id="timeline-title">Over time, per beamline</h2>
        <div role="group" aria-label="Period" className="segmented">
          {(['month', 'year'] as const).map((b) => (
            <button type="button" key={b} aria-pressed={b === by} onClick={() => query.update({ by: b === 'month' ? null : b })}>
              per {b}
            </button>
          ))}
        </div>
      </div>
      {timeline.error ? <ErrorMessage error={timeline.error} what="the timeline" /> : null}
      {!timeline.data && !timeline.error ? <Loading what="the timeline" /> : null}
      {timeline.data && timeline.data.items.length === 0 ? <Empty>No datasets registered yet — the charts fill as data arrives.</Empty> : null}
      {timeline.data && timeline.data.items.length > 0 ? (
        <div className="charts">
          <TimelineChart points={timeline.data.items} measure="datasets" title={`Datasets per ${by}`} />
          <TimelineChart points={timeline.data.items} measure="volume_bytes" title={`Volume per ${by}`} />
        </div>
      ) : null}
    </section>
  );
}

export function StatisticsPanel() {
  return (
    <>
      <div className="two-columns">
        <StatsPanel since="7d" title="Last 7 days" />
        <StatsPanel since="all" title="All time" />
      </div>
      <Timelines />
      <LogbookStatsSection />
    </>
  );
}

const LOGBOOK_PERIODS = [
  { since: '7d', label: '7 days' },
  { since: '30d', label: '30 days' },
  { since: '365d', label: 'a year' },
] as const;

/** How the logbook is used: events, annotations and notifications per day; the largest logbooks. */
export function LogbookStatsSection() {
  const query = useUrlQuery();
  const since = LOGBOOK_PERIODS.some((p) => p.since === query.get('logbook')) ? query.get('logbook') : '30d';
  const stats = useApi(`logbook-stats-${since}`, (signal) => apiGet('/api/logbook/stats', { query: { since }, signal }));
  const data = stats.data;
  return (
    <section className="card" aria-labelledby="logbook-stats-title" data-testid="logbook-stats">
      <div className="card-heading">
        <h2 id="logbook-stats-title">Logbook</h2>
        <div role="group" aria-label="Logbook period" className="segmented">
          {LOGBOOK_PERIODS.map((p) => (
            <button type="button" key={p.since} aria-pressed={p.since === since} onClick={() => query.update({ logbook: p.since === '30d' ? null : p.since })}>
              last {p.label}
            </button>
          ))}
        </div>
      </div>
      {stats.error ? <ErrorMessage error={stats.error} what="the logbook statistics" /> : null}
      {!data && !stats.error ? <Loading what="the logbook statistics" /> : null}
      {data ? (
        <>
          <dl className="stat-grid">
            {(
              [
                ['events', 'Events'],
                ['annotations', 'Annotations'],
                ['notifications', 'Notifications'],
                ['logbooks', 'Logbooks written to'],
              ] as const
            ).map(([key, label]) => (
              <div key={key} className="stat">
                <dt>{label}</dt>
                <dd data-testid={`logbook-stat-${key}`} data-value={String(data[key])}>
                  {formatCount(data[key])}
                </dd>
              </div>
            ))}
          </dl>
          {data.events === 0 ? (
            <Empty>No logbook event in this period — choose a longer one above.</Empty>
          ) : (
            <div className="charts">
              <figure className="chart">
                <figcaption>Events per day</figcaption>
                <div className="chart-body" role="img" aria-label={`Annotations and notifications per day, ${data.days.length} days`}>
                  <ResponsiveContainer width="100%" height={260}>
                    <BarChart data={data.days} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
                      <CartesianGrid strokeDasharray="3 3" vertical={false} />
                      <XAxis dataKey="day" tick={{ fontSize: 12 }} minTickGap={12} />
                      <YAxis tickFormatter={(v: number) => formatCount(v)} tick={{ fontSize: 12 }} width={56} />
                      <Tooltip formatter={(v) => formatCount(Number(v))} />
                      <Legend />
                      <Bar dataKey="annotations" stackId="e" fill={PALETTE[0]} isAnimationActive={false} />
                      <Bar dataKey="notifications" stackId="e" fill="#94a3b8" isAnimationActive={false} />
                    </BarChart>
                  </ResponsiveContainer>
                </div>
              </figure>
              <div className="table-wrap">
                <table className="data-table" data-testid="largest-logbooks">
                  <caption className="muted small">The largest logbooks in the period</caption>
                  <thead>
                    <tr>
                      <th scope="col">Logbook</th>
                      <th scope="col">Beamline</th>
                      <th scope="col" className="num">Events</th>
                      <th scope="col" className="num">Annotations</th>
                      <th scope="col" className="num">Notifications</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.largest.map((l) => (
                      <tr key={l.logbook}>
                        <td>
                          {l.investigation ? (
                            <Link to={`/investigations/${l.investigation}/logbook`} className="code">
                              {l.code ?? l.investigation}
                            </Link>
                          ) : (
                            <Link to={`/beamlines/${l.instrument}/logbook`}>beamline {l.instrument}</Link>
                          )}
                        </td>
                        <td>{l.instrument}</td>
                        <td className="num">{formatCount(l.events)}</td>
                        <td className="num">{formatCount(l.annotations)}</td>
                        <td className="num">{formatCount(l.notifications)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          )}
        </>
      ) : null}
    </section>
  );
}
