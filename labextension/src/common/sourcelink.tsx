/**
 * A link to where something is: a file at a line, or a note (`@notes/<id>`).
 */
import * as React from 'react';

import { ISource, formatSource } from './api';
import { isPlainClick, noteIdOf, sourceHref } from './opensource';
import { useTranslation } from './translation';
import { Button } from '@jupyterlab/ui-components';

export interface ISourceLinkProps {
  source: ISource;
  className: string;
  /** Opens the file at its line, or the note in the sidebar. */
  onOpen: (source: ISource) => void;
  /** The tooltip; says where the link goes unless given. */
  title?: string;
  /** What the link shows; `path:line` unless given. */
  children?: React.ReactNode;
}

/**
 * A file is an `<a>` with the file's JupyterLab URL, so a modified click
 * opens it in a new browser tab; a note has no URL of its own and is a
 * button that looks like a link. `data-path` and `data-line` say where it
 * goes.
 */
export function SourceLink(props: ISourceLinkProps): JSX.Element {
  const { source, className, onOpen } = props;
  const trans = useTranslation();
  const where = formatSource(source);
  const label = props.children ?? where;
  const common = {
    className,
    'data-path': source.path,
    'data-line': source.line ?? undefined
  };
  if (noteIdOf(source.path) !== null) {
    return (
      <Button
        type="button"
        {...common}
        className={`${className} jp-Workspace-linkButton`}
        title={props.title ?? trans.__('Open the note (%1)', where)}
        onClick={() => onOpen(source)}
      >
        {label}
      </Button>
    );
  }
  return (
    <a
      {...common}
      href={sourceHref(source)}
      title={props.title ?? trans.__('Open %1 in the editor', where)}
      onClick={event => {
        if (isPlainClick(event)) {
          event.preventDefault();
          onOpen(source);
        }
      }}
    >
      {label}
    </a>
  );
}
