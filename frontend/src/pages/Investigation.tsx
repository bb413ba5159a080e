import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';

import { apiGet } from '../api/client';
import type { Dataset, Investigation } from '../api/types';
import { useApi } from '../api/useApi';
import { useSession } from '../auth/session';
import { DatasetTable } from '../components/DatasetTable';
import { DownloadButton, DownloadChoices, LoginToDownload } from '../components/Download';
import type { DownloadOptions } from '../components/Download';
import { Pager } from '../components/Pager';
import { DoiBasketBar } from '../components/policy/DoiRequest';
import { EmbargoExtensions } from '../components/policy/EmbargoExtension';
import { Empty, ErrorMessage, Loading } from '../components/Status';
import { maySeeData } from '../lib/access';
import { addToBasket } from '../lib/basket';
import { isReleased, releaseText } from '../lib/release';
import type { ColumnConfig } from '../lib/columns';
import { columnsFor, loadColumnConfig } from '../lib/columns';
import { formatBytes, formatCount, formatDate, formatDateTime, humanise, isFuture } from '../lib/format';
import { useUrlQuery } from '../lib/query';
import { useTitle } from '../lib/title';

const ROLE_ORDER = ['principal_investigator', 'co_investigator', 'local_contact', 'collaborator'];

function Summary({ inv }: { inv: Investigation }) {
  return (
    <section className="card summary" aria-labelledby="summary-title">
      <h2 id="summary-title" className="visually-hidden">
        Summary
      </h2>
      <dl className="facts">
        <div>
          <dt>Beamline</dt>
          <dd>{inv.instrument}</dd>
        </div>
        <div>
          <dt>Experiment</dt>
          <dd>
            {formatDateTime(inv.start)} → {formatDateTime(inv.end)}
          </dd>
        </div>
        <div>
          <dt>Proposal type</dt>
          <dd>{humanise(inv.proposal_type)}</dd>
        </div>
        <div>
          <dt>Release</dt>
          <dd data-testid="release-date" data-date={formatDate(inv.release_date)} data-released={String(isReleased(inv))}>
            {releaseText(inv)}
          </dd>
        </div>
        <div>
          <dt>DOI</dt>
          <dd data-testid="doi">
            {inv.doi ? (
              <>
                <a href={`/doi/${inv.doi}`} data-testid="doi-landing" title="The DOI's landing page">
                  {inv.doi}
                </a>{' '}
                <a href={`https://doi.org/${inv.doi}`} className="small" aria-label={`${inv.doi} at doi.org`}>
                  doi.org
                </a>
                {inv.doi_state && inv.doi_state !== 'findable' ? (
                  <div className="muted small" data-testid="doi-state">
                    {inv.doi_state}: findable once the data is open
                  </div>
                ) : null}
              </>
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div>
          <dt>Datasets</dt>
          <dd>{formatCount(inv.dataset_count)}</dd>
        </div>
        <div>
          <dt>Files</dt>
          <dd>{formatCount(inv.file_count)}</dd>
        </div>
        <div>
          <dt>Volume</dt>
          <dd>{formatBytes(inv.volume_bytes)}</dd>
        </div>
      </dl>
      {inv.abstract ? <p className="abstract">{inv.abstract}</p> : null}
    </section>
  );
}

function Participants({ inv }: { inv: Investigation }) {
  const people = [...inv.participants].sort(
    (a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || a.full_name.localeCompare(b.full_name),
  );
  return (
    <section className="card" aria-labelledby="participants-title">
      <h2 id="participants-title">Participants</h2>
      {people.length === 0 ? (
        <p className="muted">No participants are recorded.</p>
      ) : (
        <ul className="people" data-testid="participants">
          {people.map((p) => (
            <li key={`${p.username}-${p.role}`}>
              <span className="person">{p.full_name || p.username}</span>
              <span className="role">{humanise(p.role)}</span>
              {p.orcid ? (
                <a className="orcid" href={`https://orcid.org/${p.orcid}`} aria-label={`ORCID of ${p.full_name}`}>
                  ORCID
                </a>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Samples({ inv }: { inv: Investigation }) {
  const samples = useApi(`samples-${inv.id}`, (signal) =>
    apiGet('/api/investigations/{ref}/samples', { path: { ref: String(inv.id) }, query: { limit: 200 }, signal }),
  );
  let body: ReactNode;
  if (samples.error) body = <ErrorMessage error={samples.error} what="samples" />;
  else if (!samples.data) body = <Loading what="samples" />;
  else if (samples.data.items.length === 0) body = <p className="muted">No samples are registered yet.</p>;
  else
    body = (
      <ul className="samples" data-testid="samples">
        {samples.data.items.map((s) => (
          <li key={s.id}>
            <Link to={`/investigations/${inv.id}?sample=${encodeURIComponent(s.name)}#datasets`} className="code">
              {s.name}
            </Link>
            {s.chemical_formula ? <span className="formula"> {s.chemical_formula}</span> : null}
            <span className="muted"> · {formatCount(s.dataset_count)} datasets</span>
            {s.description ? <div className="muted small">{s.description}</div> : null}
          </li>
        ))}
        {samples.data.next ? <li className="muted">… and more</li> : null}
      </ul>
    );
  return (
    <section className="card" aria-labelledby="samples-title">
      <h2 id="samples-title">Samples</h2>
      {body}
    </section>
  );
}

/** The datasets ticked in the table, their size, and one zip of them all. */
function SelectionBar({ chosen, options, onClear }: { chosen: Map<number, Dataset>; options: DownloadOptions | undefined; onClear: () => void }) {
  const datasets = [...chosen.values()];
  const size = datasets.reduce((total, d) => total + (d.volume_bytes ?? 0), 0);
  const files = datasets.reduce((total, d) => total + (d.file_count ?? 0), 0);
  const large = options !== undefined && size > options.large_bytes;
  return (
    <div className="selection-bar" role="region" aria-label="Selected datasets" data-testid="selection-bar">
      <span data-testid="selection-size">
        {formatCount(datasets.length)} selected · {formatCount(files)} files · {formatBytes(size)}
      </span>
      <DownloadButton
        path="/api/archive.zip"
        datasets={datasets.map((d) => d.id)}
        label={`Download the ${datasets.length} selected datasets as one zip (${formatBytes(size)})`}
        primary={!large}
        testId="selection-download"
      >
        Download selection as zip
      </DownloadButton>
      <button
        type="button"
        onClick={() => {
          addToBasket(datasets);
          onClear();
        }}
        data-testid="selection-to-doi"
      >
        Add to a DOI request
      </button>
      <button type="button" className="link-button" onClick={onClear}>
        Clear the selection
      </button>
      {large ? (
        <p className="download-large small">
          The selection is larger than {formatBytes(options.large_bytes)}: the command line resumes and checks every file —{' '}
          <code>{datasets.map((d) => `fairbeam download ${d.id}`).join(' && ')}</code>
        </p>
      ) : null}
    </div>
  );
}

function InvestigationDownload({ inv, onOptions }: { inv: Investigation; onOptions?: (o: DownloadOptions) => void }) {
  const { user } = useSession();
  const options = useApi(user.anonymous ? null : `inv-download-${inv.id}-${user.username}`, (signal) =>
    apiGet('/api/investigations/{ref}/download', { path: { ref: String(inv.id) }, signal }).then((o) => {
      onOptions?.(o);
      return o;
    }),
  );
  if (user.anonymous) return <LoginToDownload />;
  if (options.error) return <ErrorMessage error={options.error} what="the download options" />;
  if (!options.data) return <Loading what="the download options" />;
  return <DownloadChoices options={options.data} what={`all the data of ${inv.code}`} />;
}

function Datasets({ inv }: { inv: Investigation }) {
  const query = useUrlQuery();
  const { user } = useSession();
  const [chosen, setChosen] = useState<Map<number, Dataset>>(new Map());
  const [options, setOptions] = useState<DownloadOptions>();
  const toggle = (d: Dataset, on: boolean) =>
    setChosen((before) => {
      const next = new Map(before);
      if (on) next.set(d.id, d);
      else next.delete(d.id);
      return next;
    });
  const [config, setConfig] = useState<ColumnConfig | null>(null);
  useEffect(() => {
    loadColumnConfig().then(setConfig);
  }, []);
  const facets = useApi(`facets-${inv.id}`, (signal) =>
    apiGet('/api/datasets/facets', { query: { investigation: String(inv.id) }, signal }),
  );
  const techniques = facets.data?.technique ?? [];
  // The table shows one technique at a time so its columns fit; the first by default.
  const technique = query.get('technique') || techniques[0]?.value || '';
  const type = query.get('type') || 'raw';
  const sample = query.get('sample');
  const sort = query.get('sort') || 'start';
  const filters = {
    investigation: String(inv.id),
    technique: technique || undefined,
    type,
    sample: sample || undefined,
    sort,
    limit: 50,
    cursor: query.cursor,
  };
  const list = useApi(facets.data ? JSON.stringify(filters) : null, (signal) =>
    apiGet('/api/datasets', { query: filters, signal }),
  );
  const typeCounts = facets.data?.type ?? [];

  let body: ReactNode;
  if (facets.error) body = <ErrorMessage error={facets.error} what="datasets" />;
  else if (list.error) body = <ErrorMessage error={list.error} what="datasets" />;
  else if (!facets.data || !list.data || !config) body = <Loading what="datasets" />;
  else if (facets.data.total === 0)
    body = (
      <Empty>
        No datasets yet — they appear here as soon as the beamline's acquisition registers them
        {isFuture(inv.start) ? `; the experiment starts on ${formatDate(inv.start)}` : ''}.
      </Empty>
    );
  else if (list.data.items.length === 0)
    body = <Empty>No {type} {technique} datasets{sample ? ` of sample ${sample}` : ''}. Pick another technique or type above.</Empty>;
  else
    body = (
      <>
        <DatasetTable
          datasets={list.data.items}
          columns={columnsFor(config, technique, type, list.data.items)}
          sort={sort}
          onSort={(s) => query.update({ sort: s })}
          caption={`${humanise(type)} ${technique} datasets of ${inv.code}`}
          selected={user.anonymous ? undefined : new Set(chosen.keys())}
          onToggle={user.anonymous ? undefined : toggle}
        />
        <Pager query={query} next={list.data.next} shown={list.data.items.length} label="datasets" />
      </>
    );

  return (
    <section className="card" aria-labelledby="datasets" id="datasets-section">
      <div className="card-heading">
        <h2 id="datasets">Datasets</h2>
        {facets.data && facets.data.total > 0 ? <InvestigationDownload inv={inv} onOptions={setOptions} /> : null}
      </div>
      <DoiBasketBar />
      {chosen.size ? <SelectionBar chosen={chosen} options={options} onClear={() => setChosen(new Map())} /> : null}
      {facets.data && facets.data.total > 0 ? (
        <div className="toolbar">
          <div role="group" aria-label="Technique" className="segmented">
            {techniques.map((t) => (
              <button
                type="button"
                key={t.value}
                aria-pressed={t.value === technique}
                onClick={() => query.update({ technique: t.value, sort: null })}
              >
                {t.value} <span className="count">{formatCount(t.count)}</span>
              </button>
            ))}
          </div>
          <div role="group" aria-label="Type" className="segmented">
            {['raw', 'processed'].map((t) => (
              <button type="button" key={t} aria-pressed={t === type} onClick={() => query.update({ type: t })}>
                {t} <span className="count">{formatCount(typeCounts.find((c) => c.value === t)?.count ?? 0)}</span>
              </button>
            ))}
          </div>
          {sample ? (
            <button type="button" className="chip" onClick={() => query.update({ sample: null })} aria-label={`Remove the filter on sample ${sample}`}>
              sample: {sample} ✕
            </button>
          ) : null}
        </div>
      ) : null}
      {body}
    </section>
  );
}

function Embargo({ inv }: { inv: Investigation }) {
  const { user } = useSession();
  return (
    <section className="card embargo" data-testid="embargo-notice" role="note">
      <h2>Data under embargo until {formatDate(inv.release_date)}</h2>
      <p>
        The datasets and files of {inv.code} are visible only to its experimental team until the
        embargo ends; after that they become open data.
        {user.anonymous ? (
          <>
            {' '}
            If you are part of the team, <Link to={`/login?next=/investigations/${inv.id}`}>log in</Link>.
          </>
        ) : null}
      </p>
    </section>
  );
}

export function InvestigationPage() {
  const { id = '' } = useParams();
  const { user, ready } = useSession();
  const inv = useApi(ready ? `investigation-${id}-${user.username}` : null, (signal) =>
    apiGet('/api/investigations/{ref}', { path: { ref: id }, signal }),
  );
  useTitle(inv.data ? `${inv.data.code} ${inv.data.title}` : 'Investigation');
  if (inv.error) return <ErrorMessage error={inv.error} what={`investigation ${id}`} />;
  if (!inv.data) return <Loading what="the investigation" />;
  const data = inv.data;
  const visible = maySeeData(user, data);
  return (
    <article data-testid="investigation-page" data-code={data.code}>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        {data.participants.some((p) => p.username === user.username) ? (
          <Link to="/my-data">My Data</Link>
        ) : (
          <Link to={data.public ? '/open-data' : '/closed-data'}>{data.public ? 'Open Data' : 'Closed Data'}</Link>
        )}{' '}
        ›{' '}
        <span>{data.instrument}</span>
      </nav>
      <div className="card-heading">
        <h1>
          <span className="code">{data.code}</span> {data.title}
        </h1>
        {visible ? (
          <Link to={`/investigations/${data.id}/logbook`} className="button" data-testid="logbook-link">
            Logbook
          </Link>
        ) : null}
      </div>
      <Summary inv={data} />
      {visible ? null : <Embargo inv={data} />}
      <EmbargoExtensions inv={data} />
      <div className="two-columns">
        <Participants inv={data} />
        {visible ? <Samples inv={data} /> : null}
      </div>
      {visible ? <Datasets inv={data} /> : null}
    </article>
  );
}
