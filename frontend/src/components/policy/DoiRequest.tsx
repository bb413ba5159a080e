import { useState } from 'react';
import type { FormEvent } from 'react';
import { Link } from 'react-router';

import { askDoi } from '../../api/policy';
import type { DoiRequest } from '../../api/types';
import { emptyBasket, removeFromBasket, useBasket } from '../../lib/basket';
import { formatCount } from '../../lib/format';
import { useAction } from '../../lib/action';
import { Dialog, DialogButtons } from '../Dialog';
import { Problem } from '../Status';

function DoiDialog({ open, onClose, onDone }: { open: boolean; onClose: () => void; onDone: (r: DoiRequest) => void }) {
  const basket = useBasket();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const action = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    action.run(
      () => askDoi(title.trim(), description.trim(), basket.map((i) => i.id)),
      (request) => {
        setTitle('');
        setDescription('');
        emptyBasket();
        onDone(request);
      },
    );
  };
  return (
    <Dialog open={open} title="Ask for a DOI on a collection of datasets" onClose={onClose} testId="doi-dialog">
      <form className="dialog-form" onSubmit={submit}>
        <p className="small muted">
          A data manager reviews the request. Once approved, the collection gets its own DOI, which cites these datasets
          and the investigations they come from; it becomes findable when every dataset is open data.
        </p>
        <label>
          Title
          <input type="text" required maxLength={500} value={title} onChange={(e) => setTitle(e.target.value)} data-testid="doi-title" />
        </label>
        <label>
          Description
          <textarea rows={4} value={description} onChange={(e) => setDescription(e.target.value)} data-testid="doi-description" />
        </label>
        <fieldset className="basket-list">
          <legend>Datasets ({formatCount(basket.length)})</legend>
          {basket.length === 0 ? (
            <p className="muted small">The basket is empty: tick datasets in an investigation's table and add them.</p>
          ) : (
            <ul>
              {basket.map((i) => (
                <li key={i.id}>
                  <span className="code">{i.name}</span> <span className="muted small">{i.investigation}</span>{' '}
                  <button type="button" className="link-button small" onClick={() => removeFromBasket(i.id)} aria-label={`Remove ${i.name} from the DOI request`}>
                    remove
                  </button>
                </li>
              ))}
            </ul>
          )}
        </fieldset>
        <Problem text={action.problem} block testId="doi-problem" />
        <DialogButtons busy={action.busy} label="Ask for the DOI" onCancel={onClose} disabled={basket.length === 0} testId="doi-submit" />
      </form>
    </Dialog>
  );
}

/**
 * The DOI basket: the datasets gathered so far (across investigations), a button to ask
 * for a DOI on them, and the answer to the last request.
 */
export function DoiBasketBar() {
  const basket = useBasket();
  const [open, setOpen] = useState(false);
  const [sent, setSent] = useState<DoiRequest | null>(null);
  if (basket.length === 0 && !sent) return null;
  const investigations = new Set(basket.map((i) => i.investigation_id)).size;
  return (
    <div className="selection-bar basket-bar" role="region" aria-label="DOI request" data-testid="doi-basket">
      {basket.length ? (
        <>
          <span data-testid="doi-basket-count">
            {formatCount(basket.length)} datasets from {formatCount(investigations)}{' '}
            {investigations === 1 ? 'investigation' : 'investigations'} in the DOI request
          </span>
          <button type="button" className="button-primary" onClick={() => setOpen(true)} data-testid="ask-doi">
            Ask for a DOI
          </button>
          <button type="button" className="link-button" onClick={emptyBasket}>
            Empty the DOI request
          </button>
        </>
      ) : null}
      {sent ? (
        <span className="small" role="status" data-testid="doi-sent">
          DOI request {sent.id} “{sent.title}” is {sent.status}: a data manager decides on it.{' '}
          <Link to="/my-data">Back to My Data</Link>
        </span>
      ) : null}
      <DoiDialog
        open={open}
        onClose={() => setOpen(false)}
        onDone={(request) => {
          setOpen(false);
          setSent(request);
        }}
      />
    </div>
  );
}
