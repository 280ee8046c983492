/**
 * Type-ahead shared by the chat's `@` picker and Go to Symbol: a hook that
 * asks the lookup route as the user types (the newest answer wins), and the
 * listbox of its items (ARIA `listbox` / `option`, the active one marked
 * `aria-selected` and named by the input's `aria-activedescendant`).
 */
import * as React from 'react';

import { errorMessage } from '../common/request';
import { useTranslation } from '../common/translation';
import {
  ILookupItem,
  LookupType,
  itemDetail,
  itemLabel,
  lookup
} from './lookupapi';

/** Wait this long after a key before asking, in ms: typing fast asks once. */
const DEBOUNCE_MS = 60;

export interface ILookupState {
  items: ILookupItem[];
  /** The query the items answer (it lags the typed one while a request runs). */
  query: string | null;
  error: string | null;
}

/**
 * The items for `query` (`null`: closed, nothing is asked). An answer to an
 * older query than the newest one asked is dropped.
 */
export function useLookup(
  query: string | null,
  types: ReadonlyArray<LookupType>,
  k = 12
): ILookupState {
  const [state, setState] = React.useState<ILookupState>({
    items: [],
    query: null,
    error: null
  });
  const asked = React.useRef(0);
  const typesKey = types.join(',');
  React.useEffect(() => {
    const ticket = ++asked.current;
    if (query === null) {
      setState({ items: [], query: null, error: null });
      return;
    }
    const timer = window.setTimeout(() => {
      lookup(query, typesKey.split(',') as LookupType[], k).then(
        items => {
          if (ticket === asked.current) {
            setState({ items, query, error: null });
          }
        },
        error => {
          if (ticket === asked.current) {
            setState({ items: [], query, error: errorMessage(error) });
          }
        }
      );
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [query, typesKey, k]);
  return state;
}

/** The active index after a key: wraps around at both ends. */
export function moveActive(active: number, key: string, count: number): number {
  if (count === 0) {
    return 0;
  }
  if (key === 'ArrowDown') {
    return (active + 1) % count;
  }
  if (key === 'ArrowUp') {
    return (active - 1 + count) % count;
  }
  if (key === 'Home') {
    return 0;
  }
  if (key === 'End') {
    return count - 1;
  }
  return active;
}

/** The id of option `index` of the listbox `id` (for aria-activedescendant). */
export function optionId(id: string, index: number): string {
  return `${id}-option-${index}`;
}

interface ILookupListProps {
  id: string;
  /** The query the items answer (a hook for tests: `data-query`). */
  query: string | null;
  items: ReadonlyArray<ILookupItem>;
  active: number;
  label: string;
  /** Shown when there are no items (`null`: show nothing). */
  empty: string | null;
  onChoose: (item: ILookupItem) => void;
  onHover: (index: number) => void;
}

/** The listbox; a press chooses without taking the focus from the input. */
export function LookupList(props: ILookupListProps): JSX.Element | null {
  const { id, query, items, active, label, empty, onChoose, onHover } = props;
  const trans = useTranslation();
  const list = React.useRef<HTMLUListElement>(null);
  React.useEffect(() => {
    const node = list.current?.querySelector('[aria-selected="true"]');
    node?.scrollIntoView?.({ block: 'nearest' });
  }, [active, items]);
  if (items.length === 0) {
    return empty === null ? null : (
      <div className="jp-Workspace-lookupEmpty" role="status">
        {empty}
      </div>
    );
  }
  return (
    <ul
      className="jp-Workspace-lookupList"
      id={id}
      role="listbox"
      aria-label={label}
      data-query={query ?? undefined}
      ref={list}
    >
      {items.map((item, i) => (
        <li
          key={`${item.type}:${item.path}:${item.name ?? ''}:${item.line ?? ''}`}
          id={optionId(id, i)}
          role="option"
          aria-selected={i === active}
          className="jp-Workspace-lookupOption"
          data-type={item.type}
          onMouseDown={event => {
            event.preventDefault(); // keep the focus (and caret) in the input
            onChoose(item);
          }}
          onMouseMove={() => onHover(i)}
        >
          <span className="jp-Workspace-lookupType">
            {item.type === 'file'
              ? trans.__('file')
              : item.type === 'note'
                ? trans.__('note')
                : (item.kind ?? trans.__('symbol'))}
          </span>
          <span className="jp-Workspace-lookupLabel">{itemLabel(item)}</span>
          <span className="jp-Workspace-lookupDetail">
            {itemDetail(item, trans)}
          </span>
        </li>
      ))}
    </ul>
  );
}
