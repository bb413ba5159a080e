import { Suspense, lazy, useState } from 'react';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';

import { ApiError, apiGet } from '../api/client';
import type { Datafile, Dataset, Parameter } from '../api/types';
import { useApi } from '../api/useApi';
import { useSession } from '../auth/session';
import { DownloadChoices, LoginToDownload } from '../components/Download';
import { FileList } from '../components/FileList';
import { RestorePanel } from '../components/policy/Restore';
import { ErrorMessage, Loading } from '../components/Status';
import { formatBytes, formatCount, formatDateTime, formatValue, humanise } from '../lib/format';
import { useTitle } from '../lib/title';

const Viewer = lazy(() => import('../components/Viewer'));

const HDF5 = /\.(h5|hdf5|nxs|nx5|hdf)$/i;
// Groups of parameters, in the order a scientist reads them; others follow by name.
const GROUP_ORDER = ['general', 'sample', 'instrument', 'measurement', 'positioners'];

/** Parameters grouped by their prefix (`sample.temperature` → sample), "general" without one. */
export function groupParameters(parameters: Record<string, Parameter>): [string, [string, Parameter][]][] {
  const groups = new Map<string, [string, Parameter][]>();
  for (const name of Object.keys(parameters).sort()) {
    const dot = name.indexOf('.');
    const group = dot > 0 ? name.slice(0, dot) : 'general';
    const short = dot > 0 ? name.slice(dot + 1) : name;
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push([short, parameters[name]]);
  }
  const rank = (g: string) => (GROUP_ORDER.includes(g) ? GROUP_ORDER.indexOf(g) : GROUP_ORDER.length);
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * The file the viewer opens: the HDF5 file named after the dataset (its NeXus master file),
 * else the first HDF5 file. Only the first page of paths is looked at: master files sort
 * before the frames folders named like them.
 */
export function masterFile(dataset: Dataset, files: Datafile[]): Datafile | undefined {
  const hdf5 = files.filter((f) => HDF5.test(f.path));
  const stem = (path: string) => path.split('/').pop()!.replace(HDF5, '');
  return (
    hdf5.find((f) => stem(f.path) === dataset.name) ??
    hdf5.find((f) => stem(f.path).endsWith(dataset.name) || dataset.name.endsWith(stem(f.path))) ??
    hdf5[0]
  );
}

function Parameters({ dataset }: { dataset: Dataset }) {
  const [filter, setFilter] = useState('');
  const parameters = dataset.parameters as Record<string, Parameter>;
  const needle = filter.trim().toLowerCase();
  const groups = groupParameters(parameters)
    .map(([group, items]) => [group, items.filter(([name]) => !needle || `${group}.${name}`.toLowerCase().includes(needle))] as const)
    .filter(([, items]) => items.length > 0);
  const total = Object.keys(parameters).length;
  return (
    <section className="card" aria-labelledby="parameters-title">
      <div className="card-heading">
        <h2 id="parameters-title">
          Parameters <span className="count">{formatCount(total)}</span>
        </h2>
        {total > 8 ? (
          <label className="inline-label">
            <span className="visually-hidden">Filter parameters by name</span>
            <input type="search" placeholder="Filter by name…" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </label>
        ) : null}
      </div>
      {total === 0 ? <p className="muted">No parameters were recorded for this dataset.</p> : null}
      {total > 0 && groups.length === 0 ? <p className="muted">No parameter name contains “{filter}”.</p> : null}
      <div className="parameter-groups" data-testid="parameters">
        {groups.map(([group, items]) => (
          <div key={group} className="parameter-group">
            <h3>{humanise(group)}</h3>
            <table className="data-table parameter-table">
              <thead className="visually-hidden">
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Value and unit</th>
                </tr>
              </thead>
              <tbody>
                {items.map(([name, p]) => (
                  <tr key={name} data-testid="parameter" data-name={group === 'general' ? name : `${group}.${name}`}>
                    <th scope="row" className="parameter-name">
                      {name}
                    </th>
                    <td className="parameter-value">
                      {formatValue(p.value)}
                      {p.unit ? <span className="unit"> {p.unit}</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </div>
    </section>
  );
}

function LinkedDataset({ id }: { id: number }) {
  const linked = useApi(`linked-${id}`, (signal) => apiGet('/api/datasets/{dataset_id}', { path: { dataset_id: id }, signal }));
  if (linked.error) return <span className="muted">dataset {id} (not visible to you)</span>;
  if (!linked.data) return <span className="muted">dataset {id}…</span>;
  return (
    <>
      <Link to={`/datasets/${id}`} className="code">
        {linked.data.name}
      </Link>{' '}
      <span className="muted small">
        {linked.data.technique} · {formatDateTime(linked.data.start)}
        {linked.data.parameters && 'pipeline' in linked.data.parameters
          ? ` · ${formatValue((linked.data.parameters as Record<string, Parameter>).pipeline.value)}`
          : ''}
      </span>
    </>
  );
}

function Provenance({ dataset }: { dataset: Dataset }) {
  const list = (ids: number[], none: string) =>
    ids.length === 0 ? (
      <p className="muted">{none}</p>
    ) : (
      <ul className="linked">
        {ids.slice(0, 50).map((id) => (
          <li key={id}>
            <LinkedDataset id={id} />
          </li>
        ))}
        {ids.length > 50 ? <li className="muted">and {ids.length - 50} more</li> : null}
      </ul>
    );
  return (
    <section className="card" aria-labelledby="provenance-title" data-testid="provenance">
      <h2 id="provenance-title">Provenance</h2>
      <h3>Made from</h3>
      {list(dataset.inputs, dataset.type === 'raw' ? 'Raw data: measured at the beamline.' : 'No inputs are recorded.')}
      <h3>Processed into</h3>
      {list(dataset.outputs, 'Nothing yet — processed datasets made from this one appear here.')}
    </section>
  );
}

interface Shown {
  id: number;
  path: string;
  chosen: boolean;
}

/** The file in the viewer: the one chosen in the file list, else the dataset's master file. */
function useShownFile(dataset: Dataset) {
  const { user } = useSession();
  const files = useApi(`master-${dataset.id}-${user.username}`, (signal) =>
    apiGet('/api/datasets/{dataset_id}/files', { path: { dataset_id: dataset.id }, query: { limit: 1000 }, signal }),
  );
  const [chosen, setChosen] = useState<{ id: number; path: string } | null>(null);
  const master = files.data ? masterFile(dataset, files.data.items) : undefined;
  const shown: Shown | null = chosen
    ? { ...chosen, chosen: true }
    : master
      ? { id: master.id, path: master.path, chosen: false }
      : null;
  return { files, shown, choose: (id: number, path: string) => setChosen({ id, path }) };
}

function ViewerSection({ dataset, state }: { dataset: Dataset; state: ReturnType<typeof useShownFile> }) {
  const { files, shown } = state;
  const defaultPlot = (dataset.parameters as Record<string, Parameter>).default_plot?.value;
  const openOn = !shown?.chosen && typeof defaultPlot === 'string' ? defaultPlot : null;
  let viewer: ReactNode;
  if (files.error) viewer = <ErrorMessage error={files.error} what="the files" />;
  else if (!files.data) viewer = <Loading what="the viewer" />;
  else if (!shown)
    viewer = <p className="muted">This dataset has no HDF5 or NeXus file to view; its files are listed below.</p>;
  else
    viewer = (
      <>
        <p className="muted small viewer-caption">
          <span className="code">{shown.path}</span>
          {openOn ? <> · opened on its default plot <span className="code">{openOn}</span></> : null}
        </p>
        <div className="viewer" data-testid="viewer">
          <Suspense fallback={<Loading what="the viewer" />}>
            <Viewer
              key={shown.id}
              fileId={shown.id}
              filename={shown.path}
              // Without a recorded default plot, the file's root follows its NeXus `default` attributes.
              initialPath={openOn ?? '/'}
            />
          </Suspense>
        </div>
      </>
    );
  return (
    <section className="card" aria-labelledby="viewer-title">
      <h2 id="viewer-title">Viewer</h2>
      {viewer}
    </section>
  );
}

function DatasetDownload({ dataset }: { dataset: Dataset }) {
  const { user } = useSession();
  // Archived data has no download to offer until it is restored (the notice above says how).
  const online = dataset.storage_state === 'online';
  const options = useApi(user.anonymous || !online ? null : `download-${dataset.id}-${user.username}`, (signal) =>
    apiGet('/api/datasets/{dataset_id}/download', { path: { dataset_id: dataset.id }, signal }),
  );
  if (!online)
    return (
      <p className="muted small">
        {formatBytes(dataset.volume_bytes)} in {formatCount(dataset.file_count)} files · in the archive: restore it to download
      </p>
    );
  if (user.anonymous)
    return (
      <p className="muted small">
        {formatBytes(dataset.volume_bytes)} in {formatCount(dataset.file_count)} files · <LoginToDownload />
      </p>
    );
  if (options.error) return <ErrorMessage error={options.error} what="the download options" />;
  if (!options.data) return <Loading what="the download options" />;
  return <DownloadChoices options={options.data} what="this dataset" />;
}

function FilesSection({ dataset, state }: { dataset: Dataset; state: ReturnType<typeof useShownFile> }) {
  return (
    <section className="card" aria-labelledby="files-title">
      <h2 id="files-title">
        Files <span className="count">{formatCount(dataset.file_count)}</span>
      </h2>
      <DatasetDownload dataset={dataset} />
      <FileList datasetId={dataset.id} fileCount={dataset.file_count} viewing={state.shown?.id} onView={state.choose} />
    </section>
  );
}

function DatasetBody({ dataset }: { dataset: Dataset }) {
  const state = useShownFile(dataset);
  return (
    <>
      {/* The viewer reads the files on disk: none while they are only in the archive. */}
      {dataset.storage_state === 'online' ? <ViewerSection dataset={dataset} state={state} /> : null}
      <div className="two-columns wide-left">
        <Parameters dataset={dataset} />
        <Provenance dataset={dataset} />
      </div>
      <FilesSection dataset={dataset} state={state} />
    </>
  );
}

export function DatasetPage() {
  const { id = '' } = useParams();
  const { user, ready } = useSession();
  const datasetId = Number(id);
  const [version, setVersion] = useState(0);
  const dataset = useApi(ready && Number.isInteger(datasetId) ? `dataset-${id}-${user.username}-${version}` : null, (signal) =>
    apiGet('/api/datasets/{dataset_id}', { path: { dataset_id: datasetId }, signal }),
  );
  useTitle(dataset.data?.name ?? 'Dataset');
  if (!Number.isInteger(datasetId) || (dataset.error instanceof ApiError && dataset.error.status === 404))
    return (
      <>
        <h1>Not found</h1>
        <p>
          There is no dataset {id}, or your account may not see it: datasets under embargo are visible to their
          experimental team only.{' '}
          {user.anonymous ? <Link to={`/login?next=/datasets/${encodeURIComponent(id)}`}>Log in</Link> : null}
        </p>
      </>
    );
  if (dataset.error) return <ErrorMessage error={dataset.error} what={`dataset ${id}`} />;
  if (!dataset.data) return <Loading what="the dataset" />;
  const d = dataset.data;
  return (
    <article data-testid="dataset-page" data-id={d.id}>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={`/investigations/${d.investigation_id}`}>{d.investigation}</Link> › {d.instrument} ›{' '}
        {d.sample ? <Link to={`/investigations/${d.investigation_id}?sample=${encodeURIComponent(d.sample.name)}`}>{d.sample.name}</Link> : 'no sample'}
      </nav>
      <div className="card-heading">
        <h1>
          <span className="code">{d.name}</span> <span className={`tag tag-${d.type}`}>{d.type}</span>
        </h1>
        <Link to={`/investigations/${d.investigation_id}/logbook?dataset=${d.id}`} className="button" data-testid="dataset-logbook-link">
          Logbook events of this dataset
        </Link>
      </div>
      <section className="card summary">
        <dl className="facts">
          <div>
            <dt>Technique</dt>
            <dd>{d.technique || '—'}</dd>
          </div>
          <div>
            <dt>Sample</dt>
            <dd>
              {d.sample?.name ?? '—'}
              {d.sample?.chemical_formula ? <span className="formula"> {d.sample.chemical_formula}</span> : null}
            </dd>
          </div>
          <div>
            <dt>Start</dt>
            <dd>{formatDateTime(d.start)}</dd>
          </div>
          <div>
            <dt>End</dt>
            <dd>{formatDateTime(d.end)}</dd>
          </div>
          <div>
            <dt>Files</dt>
            <dd>{formatCount(d.file_count)}</dd>
          </div>
          <div>
            <dt>Volume</dt>
            <dd>{formatBytes(d.volume_bytes)}</dd>
          </div>
        </dl>
        <p className="location">
          <span className="muted small">Location </span>
          <span className="code">{d.location}</span>
        </p>
      </section>
      <RestorePanel dataset={d} onOnline={() => setVersion((v) => v + 1)} />
      <DatasetBody key={d.storage_state} dataset={d} />
    </article>
  );
}
