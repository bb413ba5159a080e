import { useSyncExternalStore } from 'react';

import type { Dataset } from '../api/types';

/**
 * The datasets a user gathers for a DOI request, across investigations: kept in the
 * browser's local storage, so the basket survives moving between pages and tabs.
 */
export interface BasketItem {
  id: number;
  name: string;
  investigation: string;
  investigation_id: number;
}

const KEY = 'fairbeam.doi-basket';
const listeners = new Set<() => void>();
let cache: { text: string | null; items: BasketItem[] } = { text: null, items: [] };

function read(): BasketItem[] {
  const text = window.localStorage.getItem(KEY);
  if (text !== cache.text) {
    let items: BasketItem[] = [];
    try {
      const parsed: unknown = text ? JSON.parse(text) : [];
      if (Array.isArray(parsed)) items = parsed.filter((i): i is BasketItem => typeof i?.id === 'number');
    } catch {
      // A damaged entry starts an empty basket.
    }
    cache = { text, items };
  }
  return cache.items;
}

function write(items: BasketItem[]): void {
  if (items.length) window.localStorage.setItem(KEY, JSON.stringify(items));
  else window.localStorage.removeItem(KEY);
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => {
    if (event.key === KEY) listener();
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

export function addToBasket(datasets: Dataset[]): void {
  const items = read();
  const known = new Set(items.map((i) => i.id));
  const added = datasets
    .filter((d) => !known.has(d.id))
    .map((d) => ({ id: d.id, name: d.name, investigation: d.investigation, investigation_id: d.investigation_id }));
  write([...items, ...added]);
}

export function removeFromBasket(id: number): void {
  write(read().filter((i) => i.id !== id));
}

export function emptyBasket(): void {
  write([]);
}

export function useBasket(): BasketItem[] {
  return useSyncExternalStore(subscribe, read);
}
