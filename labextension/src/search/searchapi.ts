/**
 * Typed calls to the coordinator's search and index routes (docs/api.md,
 * "Search and the index"), and the source passages chat answers cite.
 */
import { requestAPI } from '../common/request';

export type SearchMode = 'hybrid' | 'vector' | 'text';

/** The modes in the order the Search panel offers them. */
export const SEARCH_MODES: ReadonlyArray<SearchMode> = [
  'hybrid',
  'vector',
  'text'
];

/** Language names the index gives files (the `lang` filter), most common first. */
export const SEARCH_LANGUAGES: ReadonlyArray<string> = [
  'python',
  'c',
  'cpp',
  'fortran',
  'javascript',
  'typescript',
  'tsx',
  'markdown',
  'text',
  'rst',
  'json',
  'yaml',
  'toml',
  'shell',
  'java',
  'go',
  'rust',
  'julia',
  'matlab',
  'ada',
  'r',
  'latex',
  'notebook'
];

/** Chunk kinds the index knows (the `kind` filter). */
export const SEARCH_KINDS: ReadonlyArray<string> = [
  'function',
  'method',
  'class',
  'struct',
  'enum',
  'union',
  'interface',
  'type',
  'namespace',
  'module',
  'program',
  'subroutine',
  'procedure',
  'section',
  'block'
];

/** A passage of a file: what search returns and what chat answers cite. */
export interface ISourceRef {
  /** Relative to the served root, forward slashes. */
  path: string;
  /** 1-based, inclusive. */
  start_line: number;
  end_line: number;
  /** `''` for a file's top-level code or a text block. */
  symbol: string | null;
  kind: string | null;
  language: string | null;
  /** In a notebook: the cell's index (its lines count from the cell's first line). */
  cell?: number;
}

/** A search hit. */
export interface ISearchHit extends ISourceRef {
  snippet: string;
  score: number;
  /** Found by words in a file the index does not hold yet (read from disk). */
  unindexed?: boolean;
}

export interface ISearchQuery {
  q: string;
  mode: SearchMode;
  /** Empty: any. */
  lang: string;
  kind: string;
  /** A glob relative to the root, e.g. `src/**`; empty: everywhere. */
  path: string;
  k?: number;
}

export interface ISearchAnswer {
  results: ISearchHit[];
  query: Record<string, unknown>;
  took_ms: number;
  /** The embedding model is still loading: matched by words only, meaning comes later. */
  words_only?: boolean;
  /** Files the index does not hold yet, searched by words from disk. */
  unindexed?: { files: number; partial: boolean };
  /** Why the index did not answer (its hits are then all `unindexed` ones). */
  index_unavailable?: string;
}

export type IndexStateName =
  | 'starting'
  | 'waiting'
  | 'scanning'
  | 'indexing'
  | 'embedding'
  | 'idle'
  | 'failed'
  | 'off';

/** `GET index` and the `index.progress` event. */
export interface IIndexStatus {
  state: IndexStateName;
  error: string | null;
  model_id: string | null;
  files_total: number;
  files_indexed: number;
  files_pending: number;
  files_skipped: number;
  files_error: number;
  files_deleting: number;
  chunks: number;
  chunks_per_s: number;
  /** Chunks written text-first whose vectors the sidecar is still computing. */
  vectors_pending: number;
}

/**
 * Search the index.
 *
 * @param signal - aborts the request (a newer query replaced it)
 * @throws WorkspaceRequestError: 400 with the server's reason for a bad
 *   parameter, 503 while the sidecar or its index is not ready
 */
export function search(
  query: ISearchQuery,
  signal?: AbortSignal
): Promise<ISearchAnswer> {
  const params = new URLSearchParams({ q: query.q, mode: query.mode });
  if (query.k !== undefined) {
    params.set('k', String(query.k));
  }
  if (query.lang) {
    params.set('lang', query.lang);
  }
  if (query.kind) {
    params.set('kind', query.kind);
  }
  if (query.path.trim()) {
    params.set('path', query.path.trim());
  }
  return requestAPI<ISearchAnswer>(`search?${params.toString()}`, { signal });
}

export function getIndexStatus(): Promise<IIndexStatus> {
  return requestAPI<IIndexStatus>('index');
}

/** `path:start-end` (or `path:line` for a one-line passage). */
export function formatRange(source: ISourceRef): string {
  const path =
    typeof source.cell === 'number'
      ? `${source.path} cell ${source.cell + 1}`
      : source.path;
  return source.end_line > source.start_line
    ? `${path}:${source.start_line}-${source.end_line}`
    : `${path}:${source.start_line}`;
}
