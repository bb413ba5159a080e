import { useCallback, useState } from 'react';

/** A button's work against the API: whether it runs, and what went wrong, in the API's words. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const run = useCallback(<T,>(work: () => Promise<T>, done?: (result: T) => void) => {
    setBusy(true);
    setProblem(null);
    work()
      .then((result) => done?.(result))
      .catch((e: Error) => setProblem(e.message))
      .finally(() => setBusy(false));
  }, []);
  return { busy, problem, setProblem, run };
}
