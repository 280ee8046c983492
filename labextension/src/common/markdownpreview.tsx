import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { IEntity } from '../notes/entitiesapi';
import { ENTITY_LINK_CLASS, linkEntities } from '../notes/entitylinks';
import { ISource } from './api';
import { handleCitationClicks, linkCitations } from './citations';
import { hostileRendermime } from './hostilemarkdown';
import { setTaskListItem, taskListLines } from './tasklist';
import { useTranslation } from './translation';

const MIME_TYPE = 'text/markdown';

/** Marks a rendered task-list checkbox the user may tick: its item's index. */
const TASK_INDEX_ATTRIBUTE = 'data-task-index';

/** Quiet time after typing before the preview renders again. */
const RENDER_DELAY_MS = 150;

/**
 * Detach (when still in the page) and dispose a renderer without throwing.
 *
 * Lumino refuses to detach a widget whose node has left the page already,
 * which is where React leaves it when a passive effect's clean-up runs.
 */
export function disposeRenderer(renderer: Widget): void {
  if (renderer.isAttached && !renderer.node.isConnected) {
    renderer.node.remove();
    renderer.clearFlag(Widget.Flag.IsAttached);
  }
  renderer.dispose();
}

export interface IMarkdownPreviewProps {
  rendermime: IRenderMimeRegistry;
  source: string;
  /** Entities whose names become buttons in the rendered text. */
  entities?: ReadonlyArray<IEntity>;
  /** Called when one of those buttons is pressed. */
  onOpenEntity?: (entity: IEntity, button: HTMLElement) => void;
  /**
   * Called with the markdown after a task-list checkbox was ticked or
   * unticked in the preview; without it the checkboxes stay read-only.
   */
  onSourceChange?: (source: string) => void;
  /**
   * Opens a `[path:line]` / `[path:start-end]` citation's file at its line;
   * without it citations stay text.
   */
  onOpenCitation?: (source: ISource) => void;
}

/**
 * Let the rendered task-list checkboxes be ticked, each marked with its
 * item's index in `source`; only when they are exactly the task-list items
 * (a raw HTML checkbox, say, would shift every index after it).
 */
function enableTaskBoxes(node: HTMLElement, source: string): void {
  const boxes = node.querySelectorAll<HTMLInputElement>(
    'input[type="checkbox"]'
  );
  if (boxes.length === 0 || boxes.length !== taskListLines(source).length) {
    return;
  }
  boxes.forEach((box, index) => {
    box.disabled = false;
    box.setAttribute(TASK_INDEX_ATTRIBUTE, String(index));
  });
}

const NO_ENTITIES: ReadonlyArray<IEntity> = [];

/**
 * Renders markdown with JupyterLab's own markdown renderer.
 *
 * The model is untrusted, so the renderer passes the HTML through a
 * sanitizer (JupyterLab's, with the command linker off): a note's markdown
 * can't run script or carry command-linker attributes. Citations and entity names are linked
 * afterwards, in the sanitized DOM's text (text nodes only: nothing of the note becomes markup).
 */
export function MarkdownPreview(props: IMarkdownPreviewProps): JSX.Element {
  const { rendermime, source } = props;
  const trans = useTranslation();
  const withCitations = props.onOpenCitation !== undefined;
  // Render again only when the names or what they stand for change.
  const entityKey = (props.entities ?? NO_ENTITIES)
    .map(entity => `${entity.id}\t${entity.kind}\t${entity.name}`)
    .join('\n');
  const host = React.useRef<HTMLDivElement>(null);
  const latest = React.useRef({ ...props, trans });
  latest.current = { ...props, trans };
  const renderer = React.useRef<
    Widget & { renderModel(model: MimeModel): Promise<void> }
  >();
  // The markdown the shown DOM was rendered from: what a checkbox stands for.
  const rendered = React.useRef<string | null>(null);

  // A layout effect, so the clean-up runs while the host is still in the page.
  React.useLayoutEffect(() => {
    const widget = hostileRendermime(rendermime, 'notes').createRenderer(
      MIME_TYPE
    );
    renderer.current = widget;
    if (host.current) {
      Widget.attach(widget, host.current);
    }
    return () => {
      renderer.current = undefined;
      disposeRenderer(widget);
    };
  }, [rendermime]);

  React.useEffect(() => {
    const timer = window.setTimeout(() => {
      const widget = renderer.current;
      if (!widget || widget.isDisposed) {
        return;
      }
      const model = new MimeModel({
        data: { [MIME_TYPE]: source },
        trusted: false
      });
      // A render replaces the DOM: an entity button that had the focus
      // (e.g. given back by its closed popover) or a checkbox just ticked
      // from the keyboard gets it again afterwards.
      const focused = document.activeElement;
      const inside =
        focused instanceof HTMLElement && widget.node.contains(focused);
      const focusedEntity = inside ? focused.dataset.entityId : undefined;
      const focusedBox = inside
        ? focused.getAttribute(TASK_INDEX_ATTRIBUTE)
        : null;
      widget
        .renderModel(model)
        .then(() => {
          rendered.current = source;
          if (!widget.isDisposed && latest.current.onSourceChange) {
            enableTaskBoxes(widget.node, source);
          }
          // Before the entities: their buttons are not made inside links.
          if (!widget.isDisposed && latest.current.onOpenCitation) {
            linkCitations(widget.node, [], latest.current.trans);
          }
          const entities = latest.current.entities ?? NO_ENTITIES;
          if (!widget.isDisposed && entities.length > 0) {
            linkEntities(widget.node, entities);
          }
          if (focusedEntity && !widget.isDisposed) {
            widget.node
              .querySelector<HTMLElement>(
                `.${ENTITY_LINK_CLASS}[data-entity-id="${focusedEntity}"]`
              )
              ?.focus();
          }
          if (focusedBox !== null && !widget.isDisposed) {
            widget.node
              .querySelector<HTMLElement>(
                `[${TASK_INDEX_ATTRIBUTE}="${focusedBox}"]`
              )
              ?.focus();
          }
        })
        .catch(error => {
          console.error('jupyter-workspace: markdown preview failed', error);
        });
    }, RENDER_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [source, rendermime, entityKey, withCitations]);

  // A click on a citation opens the file at its line.
  React.useEffect(() => {
    const node = host.current;
    if (!node) {
      return;
    }
    return handleCitationClicks(node, citation =>
      latest.current.onOpenCitation?.(citation)
    );
  }, []);

  // One listener for every entity button and checkbox, whichever render
  // made it.
  React.useEffect(() => {
    const node = host.current;
    if (!node) {
      return;
    }
    const onClick = (event: MouseEvent) => {
      const box = event.target;
      if (
        box instanceof HTMLInputElement &&
        box.hasAttribute(TASK_INDEX_ATTRIBUTE)
      ) {
        const { source: current, onSourceChange } = latest.current;
        // The box stands for an item of the rendered markdown: when the text
        // has changed since (a render is due), the click waits for it.
        const changed =
          rendered.current === current && onSourceChange
            ? setTaskListItem(
                current,
                Number(box.getAttribute(TASK_INDEX_ATTRIBUTE)),
                box.checked
              )
            : null;
        if (changed === null) {
          event.preventDefault();
        } else {
          // The ticked box already shows the new markdown: the next click
          // need not wait for the render.
          rendered.current = changed;
          onSourceChange?.(changed);
        }
        return;
      }
      const button = (event.target as Element | null)?.closest?.<HTMLElement>(
        `.${ENTITY_LINK_CLASS}`
      );
      const { entities: known, onOpenEntity } = latest.current;
      const id = Number(button?.dataset.entityId);
      const entity = known?.find(item => item.id === id);
      if (button && entity && onOpenEntity && node.contains(button)) {
        event.preventDefault();
        onOpenEntity(entity, button);
      }
    };
    node.addEventListener('click', onClick);
    return () => node.removeEventListener('click', onClick);
  }, []);

  return (
    <div
      className="jp-Workspace-notePreview"
      ref={host}
      aria-label={trans.__('Markdown preview')}
      role="region"
    />
  );
}
