/**
 * The popover an entity's button opens in a note's preview: where the entity
 * is mentioned, and the notes, tasks and files that mention it.
 */
import { Button, closeIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ISource } from '../common/api';
import { noteIdOf } from '../common/opensource';
import { errorMessage } from '../common/request';
import { SourceLink } from '../common/sourcelink';
import { useTranslation } from '../common/translation';
import { IEntity, IEntityDetails, getEntity, noteSource } from './entitiesapi';
import { ENTITY_LINK_CLASS, kindClass } from './entitylinks';

/** The popover keeps to the larger side of its button unless this fits below. */
const MIN_HEIGHT_BELOW = 200;

export interface IEntityPopoverProps {
  /** The entity whose button was pressed. */
  entity: IEntity;
  /** That button: the popover opens beside it and gives the focus back. */
  anchor: HTMLElement;
  /** The positioned element the popover is placed in. */
  container: HTMLElement;
  onOpenSource: (source: ISource) => void;
  onClose: () => void;
}

/** Where the popover goes: under its button, or above when more room is there. */
function placement(
  anchor: HTMLElement,
  container: HTMLElement
): React.CSSProperties {
  const box = container.getBoundingClientRect();
  const at = anchor.getBoundingClientRect();
  const below = box.bottom - at.bottom;
  const above = at.top - box.top;
  if (below >= MIN_HEIGHT_BELOW || below >= above) {
    return { top: at.bottom - box.top + 2, maxHeight: Math.max(below - 4, 80) };
  }
  return {
    bottom: box.bottom - at.top + 2,
    maxHeight: Math.max(above - 4, 80)
  };
}

/**
 * The button the focus goes back to on close: the one pressed, or, when the
 * preview was rendered again meanwhile, the same entity's first button.
 */
function returnFocus(props: IEntityPopoverProps): void {
  const { anchor, container, entity } = props;
  const target = anchor.isConnected
    ? anchor
    : container.querySelector<HTMLElement>(
        `.${ENTITY_LINK_CLASS}[data-entity-id="${entity.id}"]`
      );
  target?.focus();
}

export function EntityPopover(props: IEntityPopoverProps): JSX.Element {
  const { entity, anchor, container, onOpenSource } = props;
  const trans = useTranslation();
  const [details, setDetails] = React.useState<IEntityDetails | null>(null);
  const [error, setError] = React.useState('');
  const [style, setStyle] = React.useState<React.CSSProperties>({});
  const node = React.useRef<HTMLDivElement>(null);
  const latest = React.useRef(props);
  latest.current = props;

  React.useEffect(() => {
    let current = true;
    setDetails(null);
    setError('');
    getEntity(entity.id)
      .then(answer => current && setDetails(answer))
      .catch(reason => current && setError(errorMessage(reason)));
    return () => {
      current = false;
    };
  }, [entity.id]);

  React.useLayoutEffect(() => {
    setStyle(placement(anchor, container));
    node.current?.focus();
  }, [anchor, container]);

  // A press outside closes it (one on another entity opens that one instead).
  React.useEffect(() => {
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Element | null;
      if (
        target &&
        !node.current?.contains(target) &&
        !target.closest?.(`.${ENTITY_LINK_CLASS}`)
      ) {
        latest.current.onClose();
      }
    };
    document.addEventListener('pointerdown', onPointerDown, true);
    return () => {
      document.removeEventListener('pointerdown', onPointerDown, true);
    };
  }, []);

  const close = () => {
    returnFocus(latest.current);
    props.onClose();
  };
  // What opens goes where the focus goes: the popover has done its job.
  const open = (source: ISource) => {
    props.onClose();
    onOpenSource(source);
  };

  const shown = details?.entity ?? entity;
  const titleId = `jp-Workspace-entityTitle-${entity.id}`;
  return (
    <div
      ref={node}
      className={`jp-Workspace-entityPopover ${kindClass(shown.kind)}`}
      data-entity-id={entity.id}
      role="dialog"
      aria-labelledby={titleId}
      tabIndex={-1}
      style={style}
      onKeyDown={event => {
        if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          close();
        }
      }}
    >
      <div className="jp-Workspace-entityHeader">
        <span id={titleId} className="jp-Workspace-entityName">
          {shown.name}
        </span>
        <span className="jp-Workspace-kindBadge" data-kind={shown.kind}>
          {shown.kind}
        </span>
        <Button
          type="button"
          className="jp-Workspace-closeEntity jp-Workspace-iconButton"
          onClick={close}
          aria-label={trans.__('Close (Escape)')}
          title={trans.__('Close (Escape)')}
        >
          <closeIcon.react tag="span" />
        </Button>
      </div>
      <div className="jp-Workspace-entitySummary" role="status">
        {error
          ? ''
          : details
            ? trans.__(
                '%1 in %2',
                trans._n('%1 mention', '%1 mentions', shown.mentions),
                trans._n('%1 file or note', '%1 files and notes', shown.sources)
              )
            : trans.__('Loading…')}
      </div>
      {error && <div className="jp-Workspace-entityError">{error}</div>}
      {details && <OpenFile paths={details.paths} onOpenSource={open} />}
      {details && <EntityDetails details={details} onOpenSource={open} />}
    </div>
  );
}

/**
 * A file entity's "Open file": the workspace file its name stands for (one
 * button per file when the name fits several); nothing for other kinds.
 */
function OpenFile(props: {
  paths: string[];
  onOpenSource: (source: ISource) => void;
}): JSX.Element | null {
  const { paths, onOpenSource } = props;
  const trans = useTranslation();
  if (paths.length === 0) {
    return null;
  }
  return (
    <div className="jp-Workspace-entityOpen">
      {paths.map(path => (
        <Button
          key={path}
          type="button"
          small
          className="jp-Workspace-entityOpenFile"
          data-path={path}
          title={path}
          onClick={() => onOpenSource({ path })}
        >
          {paths.length === 1
            ? trans.__('Open file')
            : trans.__('Open %1', path)}
        </Button>
      ))}
    </div>
  );
}

interface IEntityDetailsProps {
  details: IEntityDetails;
  onOpenSource: (source: ISource) => void;
}

function EntityDetails(props: IEntityDetailsProps): JSX.Element {
  const { details, onOpenSource } = props;
  const trans = useTranslation();
  const titles = new Map(details.notes.map(note => [note.id, note.title]));
  /** A note's title in place of `@notes/<id>`. */
  const where = (source: string, line?: number | null): string => {
    const note = noteIdOf(source);
    const name =
      note === null ? source : `“${titles.get(note) || trans.__('Untitled')}”`;
    return line ? `${name}:${line}` : name;
  };
  return (
    <>
      <Section
        name="mentions"
        label={trans.__('Mentions')}
        count={details.mentions.length}
      >
        {details.mentions.map((mention, i) => (
          <li key={`${mention.source}:${mention.line}:${i}`}>
            <SourceLink
              className="jp-Workspace-entityMention"
              source={{ path: mention.source, line: mention.line }}
              onOpen={onOpenSource}
            >
              <span className="jp-Workspace-entityWhere">
                {where(mention.source, mention.line)}
                {mention.origin === 'llm' && (
                  <span
                    className="jp-Workspace-entityOrigin"
                    title={trans.__('Found by the LLM')}
                  >
                    {' '}
                    {trans.__('LLM')}
                  </span>
                )}
              </span>
              <code className="jp-Workspace-entitySnippet">
                {mention.snippet.trim()}
              </code>
            </SourceLink>
          </li>
        ))}
      </Section>
      <Section
        name="notes"
        label={trans.__('Notes')}
        count={details.notes.length}
      >
        {details.notes.map(note => (
          <li key={note.id}>
            <SourceLink
              className="jp-Workspace-entityNote"
              source={{ path: noteSource(note.id) }}
              onOpen={onOpenSource}
            >
              {note.title || trans.__('Untitled')}
            </SourceLink>
          </li>
        ))}
      </Section>
      <Section
        name="tasks"
        label={trans.__('Tasks')}
        count={details.tasks.length}
      >
        {details.tasks.map(task => (
          <li
            key={task.id}
            className="jp-Workspace-entityTask"
            data-id={task.id}
            data-done={task.done ? 'true' : 'false'}
          >
            <span className="jp-Workspace-entityTaskTitle">
              {task.done ? '✓ ' : ''}
              {task.title}
            </span>
            {task.source && (
              <SourceLink
                className="jp-Workspace-entityTaskSource"
                source={task.source}
                onOpen={onOpenSource}
              >
                {where(task.source.path, task.source.line)}
              </SourceLink>
            )}
          </li>
        ))}
      </Section>
      <Section
        name="files"
        label={trans.__('Files')}
        count={details.files.length}
      >
        {details.files.map(path => (
          <li key={path}>
            <SourceLink
              className="jp-Workspace-entityFile"
              source={{ path }}
              onOpen={onOpenSource}
            />
          </li>
        ))}
      </Section>
    </>
  );
}

/** A titled list; nothing when it is empty. */
function Section(props: {
  /** The section's `data-section`, not shown. */
  name: string;
  label: string;
  count: number;
  children: React.ReactNode;
}): JSX.Element | null {
  if (props.count === 0) {
    return null;
  }
  return (
    <section
      className="jp-Workspace-entitySection"
      data-section={props.name}
      aria-label={props.label}
    >
      <h3 className="jp-Workspace-entitySectionTitle">
        {props.label} <span>{props.count}</span>
      </h3>
      <ul className="jp-Workspace-entityList">{props.children}</ul>
    </section>
  );
}
