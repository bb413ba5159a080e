import { useState } from 'react';
import type { FormEvent } from 'react';

import { apiGet } from '../../api/client';
import { askEmbargoExtension } from '../../api/policy';
import type { EmbargoExtension, Investigation } from '../../api/types';
import { useApi } from '../../api/useApi';
import { useSession } from '../../auth/session';
import { formatDate, formatDateTime } from '../../lib/format';
import { isReleased } from '../../lib/release';
import { useAction } from '../../lib/action';
import { Dialog, DialogButtons } from '../Dialog';
import { ErrorMessage, Problem } from '../Status';

/** Whether the caller may ask to keep the investigation closed longer: its PI, or a manager. */
export function mayAskExtension(inv: Investigation, username: string | null, isManager: boolean): boolean {
  // Released data cannot close again; data with no release date is not kept at all.
  if (isReleased(inv) || !inv.release_date) return false;
  return isManager || inv.participants.some((p) => p.username === username && p.role === 'principal_investigator');
}

/** A year after the current release date (or after today), as the date field's first value. */
function suggestedDate(release: string | null | undefined): string {
  const base = release ? new Date(release) : new Date();
  base.setUTCFullYear(base.getUTCFullYear() + 1);
  return base.toISOString().slice(0, 10);
}

function ExtensionDialog({
  inv,
  open,
  onClose,
  onDone,
}: {
  inv: Investigation;
  open: boolean;
  onClose: () => void;
  onDone: (extension: EmbargoExtension) => void;
}) {
  const [date, setDate] = useState(() => suggestedDate(inv.release_date));
  const [reason, setReason] = useState('');
  const action = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    action.run(
      () => askEmbargoExtension(inv.id, `${date}T00:00:00Z`, reason.trim()),
      (extension) => {
        setReason('');
        onDone(extension);
      },
    );
  };
  return (
    <Dialog open={open} title={`Ask for an embargo extension of ${inv.code}`} onClose={onClose} testId="extension-dialog">
      <form className="dialog-form" onSubmit={submit}>
        <p className="small muted">
          The data is closed until {formatDate(inv.release_date)}. A data manager reads your reason and approves or
          refuses; until then the current date stays.
        </p>
        <label>
          New release date
          <input
            type="date"
            required
            value={date}
            min={formatDate(inv.release_date)}
            onChange={(e) => setDate(e.target.value)}
            data-testid="extension-date"
          />
        </label>
        <label>
          Reason
          <textarea
            required
            rows={4}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            placeholder="Why the data should stay closed longer (a thesis, a patent, a publication in review…)"
            data-testid="extension-reason"
          />
        </label>
        <Problem text={action.problem} block testId="extension-problem" />
        <DialogButtons busy={action.busy} label="Send the request" onCancel={onClose} testId="extension-submit" />
      </form>
    </Dialog>
  );
}

/** The investigation's embargo extension requests, and the button to ask for one. */
export function EmbargoExtensions({ inv }: { inv: Investigation }) {
  const { user, isManager } = useSession();
  const [open, setOpen] = useState(false);
  const [version, setVersion] = useState(0);
  const may = mayAskExtension(inv, user.username, isManager);
  const isPi = inv.participants.some((p) => p.username === user.username && p.role === 'principal_investigator');
  const list = useApi(isPi || isManager ? `extensions-${inv.id}-${user.username}-${version}` : null, (signal) =>
    apiGet('/api/embargo-extensions', { query: { investigation: String(inv.id), limit: 20 }, signal }),
  );
  const items = list.data?.items ?? [];
  // One request waits at a time: the button comes back once a manager has decided.
  const waiting = items.some((x) => x.status === 'pending');
  if (!may && items.length === 0) return null;
  return (
    <section className="card" aria-labelledby="extensions-title" data-testid="extensions">
      <div className="card-heading">
        <h2 id="extensions-title">Embargo</h2>
        {may && !waiting && !list.loading ? (
          <button type="button" onClick={() => setOpen(true)} data-testid="ask-extension">
            Ask for an embargo extension
          </button>
        ) : null}
      </div>
      {list.error ? <ErrorMessage error={list.error} what="the embargo extension requests" /> : null}
      {items.length === 0 ? (
        <p className="muted small">
          The data opens on {formatDate(inv.release_date)}. Its principal investigator may ask for a later date, with a reason.
        </p>
      ) : (
        <ul className="requests" aria-label="Embargo extension requests">
          {items.map((x) => (
            <li key={x.id} data-testid="extension" data-status={x.status}>
              <span className={`tag tag-status-${x.status}`}>{x.status}</span> until{' '}
              <strong>{formatDate(x.release_date)}</strong>{' '}
              <span className="muted small">
                asked by {x.requested_by ?? 'a former account'} on {formatDateTime(x.created)}
                {x.decided ? ` · decided by ${x.decided_by ?? 'a manager'} on ${formatDateTime(x.decided)}` : ''}
              </span>
              <div className="small">{x.reason}</div>
              {x.note ? <div className="small muted">Note: {x.note}</div> : null}
            </li>
          ))}
        </ul>
      )}
      {may ? (
        <ExtensionDialog
          inv={inv}
          open={open}
          onClose={() => setOpen(false)}
          onDone={() => {
            setOpen(false);
            setVersion((v) => v + 1);
          }}
        />
      ) : null}
    </section>
  );
}
