import { useEffect, useRef } from 'react';
import type { ReactNode } from 'react';

/**
 * A modal dialog on the browser's own `<dialog>`: it traps the focus, closes on Escape and
 * hands the focus back to what opened it. `open` says whether it shows.
 */
export function Dialog({
  open,
  title,
  onClose,
  children,
  testId,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  const titleId = `${testId ?? 'dialog'}-title`;
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      data-testid={testId}
      onClose={onClose}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {open ? (
        <>
          <div className="dialog-heading">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="link-button" onClick={onClose} aria-label="Close the dialog">
              ✕
            </button>
          </div>
          {children}
        </>
      ) : null}
    </dialog>
  );
}

/** A dialog form's buttons: send (disabled while sending) and cancel. */
export function DialogButtons({
  busy,
  label,
  onCancel,
  disabled,
  testId,
}: {
  busy: boolean;
  label: string;
  onCancel: () => void;
  disabled?: boolean;
  testId?: string;
}) {
  return (
    <div className="button-row">
      <button type="submit" className="button-primary" disabled={busy || disabled} data-testid={testId}>
        {busy ? 'Sending…' : label}
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
