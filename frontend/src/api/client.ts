/**
 * A small typed client of the fairbeam API. Paths, query parameters and answers are
 * checked against `schema.ts`, which `npm run gen:api` generates from the server's OpenAPI.
 */
import type { paths } from './schema';
import { clearToken, getToken } from '../auth/token';

/** An answer of the API that is not a success, with the server's `detail`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

type GetPath = {
  [P in keyof paths]: paths[P] extends { get: { responses: { 200: unknown } } } ? P : never;
}[keyof paths];

type GetOp<P extends GetPath> = paths[P]['get'];
type Params<Op> = Op extends { parameters: infer Ps } ? Ps : never;
type QueryOf<Op> = Params<Op> extends { query?: infer Q } ? NonNullable<Q> : never;
type PathOf<Op> = Params<Op> extends { path: infer X } ? X : never;
type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : unknown;

/** The JSON body a GET of path P answers with. */
export type Answer<P extends GetPath> = JsonOf<GetOp<P>['responses'][200]>;
/** The query parameters a GET of path P takes. */
export type QueryParams<P extends GetPath> = QueryOf<GetOp<P>>;

export interface GetOptions<P extends GetPath> {
  path?: PathOf<GetOp<P>>;
  query?: QueryParams<P>;
  signal?: AbortSignal;
}

type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];

/** `?a=1&b=x&b=y` from an object, leaving out empty values; arrays repeat the key. */
export function toQueryString(query: Record<string, QueryValue> | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, String(v)));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function fillPath(template: string, values: Record<string, unknown> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String(values?.[name] ?? '')),
  );
}

/** Headers that carry the session token, when there is one. */
export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// The router registers this so that an expired session sends the user to the login page.
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

async function readError(response: Response): Promise<ApiError> {
  let detail = `${response.status} ${response.statusText}`.trim();
  try {
    const body: unknown = await response.json();
    if (body && typeof body === 'object' && 'detail' in body) {
      const value = (body as { detail: unknown }).detail;
      detail = typeof value === 'string' ? value : JSON.stringify(value);
    }
  } catch {
    // Not JSON (a proxy's error page): keep the status line.
  }
  return new ApiError(response.status, detail);
}

async function send<T>(url: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { Accept: 'application/json', ...authHeaders(), ...init.headers },
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'the server cannot be reached; check your network and try again');
  }
  if (!response.ok) {
    const error = await readError(response);
    if (response.status === 401 && getToken()) {
      clearToken();
      onUnauthorized?.();
    }
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** GET a typed API path, e.g. `apiGet('/api/datasets/{dataset_id}', {path: {dataset_id: 3}})`. */
export function apiGet<P extends GetPath>(
  path: P,
  options: GetOptions<P> = {},
): Promise<Answer<P>> {
  const url =
    fillPath(path, options.path as Record<string, unknown>) +
    toQueryString(options.query as Record<string, QueryValue>);
  return send<Answer<P>>(url, { method: 'GET', signal: options.signal });
}

/** POST JSON to an API path. */
export function apiPost<T>(url: string, body: unknown): Promise<T> {
  return send<T>(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** PUT JSON to an API path. */
export function apiPut<T>(url: string, body: unknown): Promise<T> {
  return send<T>(url, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** DELETE an API path (answers 204, no body). */
export function apiDelete(url: string): Promise<void> {
  return send<void>(url, { method: 'DELETE' });
}

/** POST a file as multipart/form-data (field `file`). */
export function apiUpload<T>(url: string, file: File): Promise<T> {
  const form = new FormData();
  form.append('file', file, file.name);
  return send<T>(url, { method: 'POST', body: form });
}

/**
 * GET a file with the session's token and hand it to the browser as a download; for
 * small answers (exports, attachments), which are read into memory.
 */
export async function downloadBlob(url: string, filename: string): Promise<void> {
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) throw await readError(response);
  const href = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = href;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}
