import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { IEntity } from '../notes/entitiesapi';
import { ENTITY_LINK_CLASS, linkEntities } from '../notes/entitylinks';
import { hostileRendermime } from './hostilemarkdown';
import { useTranslation } from './translation';

const MIME_TYPE = 'text/markdown';

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
}

const NO_ENTITIES: ReadonlyArray<IEntity> = [];

/**
 * Renders markdown with JupyterLab's own markdown renderer.
 *
 * The model is untrusted, so the renderer passes the HTML through a
 * sanitizer (JupyterLab's, with the command linker off): a note's markdown
 * can't run script or carry command-linker attributes. Entity names are linked afterwards, in the
 * sanitized DOM's text.
 */
export function MarkdownPreview(props: IMarkdownPreviewProps): JSX.Element {
  const { rendermime, source } = props;
  const trans = useTranslation();
  // Render again only when the names or what they stand for change.
  const entityKey = (props.entities ?? NO_ENTITIES)
    .map(entity => `${entity.id}\t${entity.kind}\t${entity.name}`)
    .join('\n');
  const host = React.useRef<HTMLDivElement>(null);
  const latest = React.useRef(props);
  latest.current = props;
  const renderer = React.useRef<
    Widget & { renderModel(model: MimeModel): Promise<void> }
  >();

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
      // (e.g. given back by its closed popover) gets it again afterwards.
      const focused = document.activeElement;
      const focusedEntity =
        focused instanceof HTMLElement && widget.node.contains(focused)
          ? focused.dataset.entityId
          : undefined;
      widget
        .renderModel(model)
        .then(() => {
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
        })
        .catch(error => {
          console.error('jupyter-workspace: markdown preview failed', error);
        });
    }, RENDER_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [source, rendermime, entityKey]);

  // One listener for every entity button, whichever render made it.
  React.useEffect(() => {
    const node = host.current;
    if (!node) {
      return;
    }
    const onClick = (event: MouseEvent) => {
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
