/**
 * The coordinator's type-ahead route (`GET lookup`, docs/api.md): files by
 * path, definitions by name, notes by title, answered from its database.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { ISource } from '../common/api';
import { requestAPI } from '../common/request';

export type LookupType = 'file' | 'symbol' | 'note';

/** One item the lookup offers. */
export interface ILookupItem {
  type: LookupType;
  /** A root-relative path; `@notes/<id>` for a note. */
  path: string;
  /** What to write in a chat message to give the answer this item; `null`: none. */
  ref: string | null;
  /** A definition's name (`nav.Kalman::gain`) and kind (`method`). */
  name?: string;
  kind?: string;
  /** A definition's 1-based lines; a notebook's cell (lines count from it). */
  line?: number;
  end_line?: number;
  cell?: number | null;
  /** A note's id and title. */
  id?: number;
  title?: string;
}

interface ILookupAnswer {
  results: ILookupItem[];
  took_ms: number;
}

/** The server's longest query. */
export const MAX_LOOKUP_CHARS = 200;

/** The best `k` items of the given types for `query`. */
export async function lookup(
  query: string,
  types: ReadonlyArray<LookupType>,
  k = 20
): Promise<ILookupItem[]> {
  const params = new URLSearchParams({
    q: query.slice(0, MAX_LOOKUP_CHARS),
    types: types.join(','),
    k: String(k)
  });
  const answer = await requestAPI<ILookupAnswer>(`lookup?${params}`);
  return answer.results;
}

/** The item's main line: a file's name, a definition's name, a note's title. */
export function itemLabel(item: ILookupItem): string {
  switch (item.type) {
    case 'file':
      return item.path.split('/').pop() ?? item.path;
    case 'symbol':
      return item.name ?? '';
    case 'note':
      return item.title ?? '';
  }
}

/** The item's second line: where it is. */
export function itemDetail(
  item: ILookupItem,
  trans: TranslationBundle
): string {
  switch (item.type) {
    case 'file': {
      const folder = item.path.split('/').slice(0, -1).join('/');
      return folder ? trans.__('file in %1', folder) : trans.__('file');
    }
    case 'symbol':
      return trans.__('%1:%2', item.path, item.line ?? 1);
    case 'note':
      return trans.__('note');
  }
}

/** Where the item opens: a definition at its line, a file, a note. */
export function itemSource(item: ILookupItem): ISource {
  return {
    path: item.path,
    line: item.type === 'symbol' ? (item.line ?? null) : null,
    cell: item.cell ?? null
  };
}
