import { useEffect, useState } from 'react';

import { apiGet } from '../../api/client';
import { askRestore } from '../../api/policy';
import type { Dataset, Restore } from '../../api/types';
import { useSession } from '../../auth/session';
import { useAction } from '../../lib/action';
import { formatDateTime } from '../../lib/format';
import { Problem } from '../Status';

const POLL_MS = 2000;

const STATUS_TEXT: Record<string, string> = {
  queued: 'queued: the restore starts shortly',
  running: 'running: the files are being copied back and checked',
  done: 'done: the files are online again',
  failed: 'failed',
};

/**
 * A dataset whose files are only in the archive: a button to bring them back, then the
 * restore's status, asked again every two seconds until it ends; `onOnline` reloads the page's dataset.
 */
export function RestorePanel({ dataset, onOnline }: { dataset: Dataset; onOnline: () => void }) {
  const { user } = useSession();
  const state = dataset.storage_state; // online, archived, restoring or deleted
  const [restore, setRestore] = useState<Restore | null>(null);
  const { busy: asking, problem, setProblem, run } = useAction();
  const ask = () => run(() => askRestore(dataset.id), setRestore);

  // Asking again while a restore is queued or running answers that same request: it finds
  // the restore a download or another user started.
  useEffect(() => {
    if (state === 'restoring' && !restore && !user.anonymous) ask();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state, user.anonymous]);

  const active = restore !== null && (restore.status === 'queued' || restore.status === 'running');
  useEffect(() => {
    if (!restore) return;
    if (restore.status === 'done') {
      onOnline();
      return;
    }
    if (!active) return;
    const timer = window.setTimeout(() => {
      apiGet('/api/restores/{request_id}', { path: { request_id: restore.id } })
        .then(setRestore)
        .catch((e: Error) => setProblem(e.message));
    }, POLL_MS);
    return () => window.clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [restore, active]);

  if (state === 'online' && !restore) return null;
  if (state === 'deleted')
    return (
      <section className="card embargo" role="note" data-testid="storage-notice" data-state={state}>
        <h2>The files of this dataset were deleted</h2>
        <p>The data policy deleted them at the end of their retention period; the metadata stays in the catalogue.</p>
      </section>
    );
  return (
    <section className="card archive-notice" aria-labelledby="restore-title" data-testid="storage-notice" data-state={state}>
      <div className="card-heading">
        <h2 id="restore-title">{restore?.status === 'done' ? 'Restored from the archive' : 'In the archive'}</h2>
        {state === 'archived' && !active && restore?.status !== 'done' && !user.anonymous ? (
          <button type="button" className="button-primary" onClick={ask} disabled={asking} data-testid="restore">
            {asking ? 'Asking…' : 'Restore from archive'}
          </button>
        ) : null}
      </div>
      {restore ? (
        <p data-testid="restore-status" data-status={restore.status} role="status" aria-live="polite">
          {active ? <span className="spinner" aria-hidden="true" /> : null} Restore {restore.id}: {STATUS_TEXT[restore.status] ?? restore.status}
          {restore.error ? ` — ${restore.error}` : ''}
          <span className="muted small">
            {' '}
            · asked {formatDateTime(restore.created)}
            {restore.finished ? ` · finished ${formatDateTime(restore.finished)}` : ''}
          </span>
        </p>
      ) : (
        <p className="small">
          The files of this dataset were moved to the archive after their time on disk. Restoring them brings them back
          online, checked byte for byte, usually within minutes; then they can be viewed and downloaded again.
          {user.anonymous ? ' Log in to ask for a restore.' : ''}
        </p>
      )}
      <Problem text={problem && `Could not restore: ${problem}`} block />
    </section>
  );
}
