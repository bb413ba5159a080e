/**
 * Which parameter columns the datasets table shows, per technique: read from the
 * facility-editable `/columns.json`, never decided in code.
 */
import type { Dataset, Parameter } from '../api/types';
import { humanise } from './format';

type Entry = string | { parameter: string; label?: string };
type Columns = Entry[] | { raw?: Entry[]; processed?: Entry[] };

export interface ColumnConfig {
  fallback_count?: number;
  techniques: Record<string, Columns>;
}

export interface Column {
  parameter: string;
  label: string;
}

let cached: Promise<ColumnConfig> | null = null;

export function loadColumnConfig(): Promise<ColumnConfig> {
  cached ??= fetch('/columns.json')
    .then((r) => {
      if (!r.ok) throw new Error(`columns.json: ${r.status}`);
      return r.json() as Promise<ColumnConfig>;
    })
    .catch(() => ({ techniques: {} }) as ColumnConfig);
  return cached;
}

function toColumn(entry: Entry): Column {
  return typeof entry === 'string'
    ? { parameter: entry, label: humanise(entry) }
    : { parameter: entry.parameter, label: entry.label ?? humanise(entry.parameter) };
}

/**
 * The columns for datasets of one technique (and type, when the config splits them);
 * with no entry, the first parameters the datasets on the page have.
 */
export function columnsFor(
  config: ColumnConfig,
  technique: string,
  type: string,
  datasets: Dataset[],
): Column[] {
  const key = Object.keys(config.techniques).find(
    (name) => name.toLowerCase() === technique.toLowerCase(),
  );
  const entry = key ? config.techniques[key] : undefined;
  if (entry) {
    const list = Array.isArray(entry)
      ? entry
      : type === 'processed'
        ? (entry.processed ?? entry.raw ?? [])
        : (entry.raw ?? entry.processed ?? []);
    if (list.length) return list.map(toColumn);
  }
  const count = config.fallback_count ?? 5;
  const names: string[] = [];
  for (const dataset of datasets) {
    for (const name of Object.keys(dataset.parameters)) {
      if (name !== 'default_plot' && !names.includes(name)) names.push(name);
    }
  }
  return names.slice(0, count).map((name) => toColumn(name));
}

/** A dataset's parameter, or undefined. */
export function parameterOf(dataset: Dataset, name: string): Parameter | undefined {
  return (dataset.parameters as Record<string, Parameter>)[name];
}
