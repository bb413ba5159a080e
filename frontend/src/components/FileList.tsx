import { useState } from 'react';

import { apiGet } from '../api/client';
import { useApi } from '../api/useApi';
import { useSession } from '../auth/session';
import { DownloadButton, LoginToDownload } from './Download';
import { formatBytes, formatCount } from '../lib/format';
import { ErrorMessage, Empty, Loading } from './Status';

const PAGE = 100;

interface Props {
  datasetId: number;
  fileCount: number;
  /** The file the viewer shows, marked in the list; choosing another file views it. */
  viewing?: number;
  onView?: (fileId: number, path: string) => void;
}

const HDF5 = /\.(h5|hdf5|nxs|nx5|hdf)$/i;

/**
 * A dataset's files, one server page at a time (a dataset may hold 200,000): the list never
 * loads more than a page, and the stored count gives the size of the whole.
 */
export function FileList({ datasetId, fileCount, viewing, onView }: Props) {
  const { user } = useSession();
  // The cursors of the pages seen so far; the last is the page shown.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const files = useApi(`files-${datasetId}-${cursor}`, (signal) =>
    apiGet('/api/datasets/{dataset_id}/files', {
      path: { dataset_id: datasetId },
      query: { limit: PAGE, cursor },
      signal,
    }),
  );
  const first = (cursors.length - 1) * PAGE;

  if (files.error) return <ErrorMessage error={files.error} what="the files" />;
  if (!files.data) return <Loading what="the files" />;
  if (files.data.items.length === 0) return <Empty>This dataset has no files registered.</Empty>;
  const shownTo = first + files.data.items.length;
  return (
    <>
      <div className="table-wrap file-list" aria-busy={files.loading}>
        <table className="data-table" data-testid="file-table">
          <caption className="visually-hidden">Files of the dataset, by path</caption>
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col" className="num">Size</th>
              <th scope="col">Storage</th>
              <th scope="col">Checksum</th>
              <th scope="col">{user.anonymous ? <LoginToDownload /> : <span className="visually-hidden">Download</span>}</th>
              {onView ? <th scope="col"><span className="visually-hidden">View</span></th> : null}
            </tr>
          </thead>
          <tbody>
            {files.data.items.map((f) => (
              <tr key={f.id} data-testid="file-row" data-id={f.id} aria-current={f.id === viewing ? 'true' : undefined}>
                <td className="code path-cell">{f.path}</td>
                <td className="num nowrap">{formatBytes(f.size)}</td>
                <td>
                  <span className={`tag tag-tier-${f.tier}`}>{f.tier}</span>
                </td>
                <td className="code checksum" title={f.checksum ?? undefined}>
                  {f.checksum ? `${f.checksum.slice(0, 18)}…` : '—'}
                </td>
                <td>
                  {user.anonymous ? null : (
                    <DownloadButton
                      path={`/api/files/${f.id}/content`}
                      label={`Download ${f.path} (${formatBytes(f.size)})`}
                      testId="file-download"
                    >
                      Download
                    </DownloadButton>
                  )}
                </td>
                {onView ? (
                  <td>
                    {HDF5.test(f.path) ? (
                      f.id === viewing ? (
                        <span className="muted small">in the viewer</span>
                      ) : (
                        <button type="button" className="small-button" onClick={() => onView(f.id, f.path)} aria-label={`View ${f.path}`}>
                          View
                        </button>
                      )
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Pages of files">
        <button type="button" onClick={() => setCursors((c) => c.slice(0, -1))} disabled={cursors.length === 1}>
          ← Previous
        </button>
        <span className="pager-shown">
          {formatCount(first + 1)}–{formatCount(shownTo)} of {formatCount(fileCount)} files
        </span>
        <button
          type="button"
          onClick={() => {
            const next = files.data?.next;
            if (next) setCursors((c) => [...c, next]);
          }}
          disabled={!files.data.next}
        >
          Next →
        </button>
      </nav>
    </>
  );
}
