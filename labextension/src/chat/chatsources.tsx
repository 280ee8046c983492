/**
 * The workspace passages an answer was given with: source chips under the
 * answer and the citation links inside it.
 */
import * as React from 'react';

import { ISource } from '../common/api';
import { SourceLink } from '../common/sourcelink';
import { useTranslation } from '../common/translation';
import { ISourceRef, formatRange } from '../search/searchapi';
import { ICitations } from './chatmarkdown';

/** The passages of an answer without repeats, in their order. */
export function uniqueSources(
  sources: ReadonlyArray<ISourceRef> | null | undefined
): ISourceRef[] {
  const seen = new Set<string>();
  return (sources ?? []).filter(source => {
    const key = `${source.path}:${source.start_line}:${source.end_line}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

/** The citation links of an answer, stable while its sources are. */
export function useCitations(
  sources: ReadonlyArray<ISourceRef>,
  open: (source: ISource) => void
): ICitations {
  return React.useMemo(() => ({ sources, open }), [sources, open]);
}

/** An answer's passages as chips: `path:start-end · symbol`, click to open. */
export function SourceChips(props: {
  sources: ReadonlyArray<ISourceRef>;
  onOpen: (source: ISource) => void;
}): JSX.Element | null {
  const { sources, onOpen } = props;
  const trans = useTranslation();
  if (sources.length === 0) {
    return null;
  }
  return (
    <div
      className="jp-Workspace-chatSources"
      role="group"
      aria-label={trans.__('Sources')}
    >
      <span className="jp-Workspace-chatSourcesLabel">
        {trans.__('Sources')}
      </span>
      {sources.map(source => {
        const where = formatRange(source);
        return (
          <SourceLink
            key={`${source.path}:${source.cell ?? ''}:${source.start_line}:${source.end_line}`}
            className="jp-Workspace-chatSource"
            source={{
              path: source.path,
              line: source.start_line,
              cell: source.cell
            }}
            title={
              source.kind
                ? trans.__(
                    'Open %1 at line %2 (%3)',
                    source.path,
                    source.start_line,
                    source.kind
                  )
                : trans.__('Open %1 at line %2', source.path, source.start_line)
            }
            onOpen={onOpen}
          >
            <span className="jp-Workspace-chatSourceWhere">{where}</span>
            {source.symbol && (
              <span className="jp-Workspace-chatSourceSymbol">
                {' · '}
                {source.symbol}
              </span>
            )}
          </SourceLink>
        );
      })}
    </div>
  );
}
