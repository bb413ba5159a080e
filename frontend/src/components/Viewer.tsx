/**
 * h5web, the ESRF's HDF5 viewer, reading one datafile through fairbeam's h5grove-compatible
 * endpoints (`/api/files/{id}/h5/meta/`, `/attr/`, `/data/`), which apply the access rules.
 * Loaded lazily: it brings three.js, which the rest of the portal does not need.
 */
import '@h5web/app/styles.css';

import { App, H5GroveProvider, createBasicFetcher } from '@h5web/app';
import type { DataProviderApi } from '@h5web/app';
import { useCallback, useMemo } from 'react';

import { authHeaders } from '../api/client';

interface Props {
  fileId: number;
  filename: string;
  /** The HDF5 path to open on: the dataset's default NXdata. */
  initialPath: string;
}

type GetExportURL = NonNullable<DataProviderApi['getExportURL']>;

export default function Viewer({ fileId, filename, initialPath }: Props) {
  const token = authHeaders().Authorization ?? '';
  // h5web builds export links with `new URL`, which needs an absolute base.
  const url = `${window.location.origin}/api/files/${fileId}/h5`;
  // A new fetcher (and so a new provider) only when the session's token changes.
  const fetcher = useMemo(
    () => createBasicFetcher({ headers: token ? { Authorization: token } : {} }),
    [token],
  );
  // A plain export link would not carry the token: fetch the NumPy file, then hand over a Blob.
  const getExportURL = useCallback<GetExportURL>(
    (format, dataset, selection, builtInExporter) => {
      if (builtInExporter || format !== 'npy') return undefined;
      const params = new URLSearchParams({ path: dataset.path, format: 'npy' });
      if (selection) params.set('selection', selection);
      return async () => {
        const response = await fetch(`${url}/data/?${params}`, {
          headers: token ? { Authorization: token } : {},
        });
        if (!response.ok) throw new Error(`export failed: ${response.status}`);
        return response.blob();
      };
    },
    [url, token],
  );
  return (
    <H5GroveProvider
      url={url}
      filepath={filename}
      fetcher={fetcher}
      getExportURL={getExportURL}
      resetKeys={[token]}
    >
      <App initialPath={initialPath} sidebarOpen={false} disableDarkMode />
    </H5GroveProvider>
  );
}
