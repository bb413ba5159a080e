import { useEffect } from 'react';

/** The browser tab's title: "PAGE · fairbeam". */
export function useTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · fairbeam` : 'fairbeam data portal';
  }, [title]);
}
