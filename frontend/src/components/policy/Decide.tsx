import { useState } from 'react';

import { decide } from '../../api/policy';
import type { RequestKind } from '../../api/policy';
import { useAction } from '../../lib/action';
import { Problem } from '../Status';

/** Approve / Refuse buttons with an optional note to the requester, for one pending request. */
export function DecideButtons({
  kind,
  id,
  what,
  onDecided,
}: {
  kind: RequestKind;
  id: number;
  what: string;
  onDecided: () => void;
}) {
  const [note, setNote] = useState('');
  const { busy, problem, run } = useAction();
  const send = (approve: boolean) => run(() => decide(kind, id, { approve, note: note.trim() }), onDecided);
  return (
    <div className="decide" data-testid="decide">
      <label className="inline-label">
        <span className="visually-hidden">Note to the requester about {what} (optional)</span>
        <input
          type="text"
          placeholder="Note (optional)"
          value={note}
          onChange={(e) => setNote(e.target.value)}
          data-testid="decision-note"
        />
      </label>
      <button type="button" className="button-primary" disabled={busy} onClick={() => send(true)} aria-label={`Approve ${what}`} data-testid="approve">
        Approve
      </button>
      <button type="button" className="danger" disabled={busy} onClick={() => send(false)} aria-label={`Refuse ${what}`} data-testid="refuse">
        Refuse
      </button>
      <Problem text={problem} />
    </div>
  );
}
