import { useState } from 'react';
import { Link, useLocation } from 'react-router';

import { apiPost } from '../api/client';
import type { components } from '../api/schema';
import { useSession } from '../auth/session';
import { formatBytes, formatCount } from '../lib/format';

export type DownloadOptions = components['schemas']['DownloadOptions'];
type Ticket = components['schemas']['TicketOut'];

/**
 * Download a route through the browser's own download manager: a link cannot carry the
 * token, so the portal asks for a short-lived ticket URL and follows it.
 */
export async function startDownload(path: string, datasets?: number[]): Promise<void> {
  const ticket = await apiPost<Ticket>('/api/downloads/ticket', datasets ? { path, datasets } : { path });
  const link = document.createElement('a');
  link.href = ticket.url;
  link.download = '';
  document.body.appendChild(link);
  link.click();
  link.remove();
}

/** The path of one of the options' absolute URLs. */
const pathOf = (url: string) => new URL(url, window.location.origin).pathname;

/** "Log in to download" for anonymous visitors: open data needs a registered identity. */
export function LoginToDownload() {
  const location = useLocation();
  return (
    <Link to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} className="small" data-testid="login-to-download">
      Log in to download
    </Link>
  );
}

/** A button that starts a download and says so when it fails. */
export function DownloadButton({
  path,
  datasets,
  children,
  label,
  primary,
  testId,
}: {
  path: string;
  datasets?: number[];
  children: React.ReactNode;
  label: string;
  primary?: boolean;
  testId?: string;
}) {
  const [problem, setProblem] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  return (
    <>
      <button
        type="button"
        className={primary ? 'button-primary' : 'small-button'}
        aria-label={label}
        data-testid={testId}
        disabled={starting}
        onClick={() => {
          setProblem(null);
          setStarting(true);
          startDownload(path, datasets)
            .catch((e: Error) => setProblem(`Could not start the download: ${e.message}`))
            .finally(() => setStarting(false));
        }}
      >
        {children}
      </button>
      {problem ? (
        <span className="status-error small" role="alert">
          {problem}
        </span>
      ) : null}
    </>
  );
}

function CopyCommand({ command }: { command: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div>
      <pre data-testid="download-command">
        <code>{command}</code>
      </pre>
      <button
        type="button"
        className="small-button"
        onClick={() =>
          navigator.clipboard?.writeText(command).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? 'Copied' : 'Copy the command'}
      </button>
    </div>
  );
}

/** How to download a dataset or an investigation: its size first, then the ways to fetch it. */
export function DownloadChoices({ options, what }: { options: DownloadOptions; what: string }) {
  const { user } = useSession();
  if (user.anonymous) return <LoginToDownload />;
  if (options.files === 0) return <span className="muted small">No files to download.</span>;
  const size = `${formatCount(options.files)} files, ${formatBytes(options.size)}`;
  return (
    <div data-testid="download-choices" data-large={String(options.large)}>
      <div className="download-box">
        <DownloadButton path={pathOf(options.zip)} label={`Download ${what} as a zip (${size})`} primary={!options.large} testId="download-zip">
          Download zip · {size}
        </DownloadButton>
      </div>
      {options.large ? (
        <div className="download-large" data-testid="download-large">
          <p className="small">
            {what[0].toUpperCase() + what.slice(1)} holds {formatBytes(options.size)}, more than{' '}
            {formatBytes(options.large_bytes)}: a browser download of that size is slow and hard to resume. Use the
            command line, which fetches several files at once, resumes and checks every checksum:
          </p>
          <CopyCommand command={options.command} />
          <div className="download-box">
            <DownloadButton path={pathOf(options.metalink)} label={`Metalink of ${what}, for aria2 and download managers`}>
              Metalink (aria2)
            </DownloadButton>
            <DownloadButton path={pathOf(options.manifest)} label={`List of the paths of ${what}, for rsync or Globus`}>
              Path list (rsync, Globus)
            </DownloadButton>
            {options.globus ? (
              <a className="button" href={options.globus} target="_blank" rel="noopener noreferrer">
                Open in Globus
              </a>
            ) : null}
          </div>
        </div>
      ) : null}
    </div>
  );
}
