import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

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
}

/**
 * Renders markdown with JupyterLab's own markdown renderer.
 *
 * The model is untrusted, so the renderer passes the HTML through the
 * application's sanitizer: a note's markdown can't run script or carry
 * command-linker attributes.
 */
export function MarkdownPreview(props: IMarkdownPreviewProps): JSX.Element {
  const { rendermime, source } = props;
  const host = React.useRef<HTMLDivElement>(null);
  const renderer = React.useRef<
    Widget & { renderModel(model: MimeModel): Promise<void> }
  >();

  // A layout effect, so the clean-up runs while the host is still in the page.
  React.useLayoutEffect(() => {
    const widget = rendermime.createRenderer(MIME_TYPE);
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
      widget.renderModel(model).catch(error => {
        console.error('jupyter-workspace: markdown preview failed', error);
      });
    }, RENDER_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [source, rendermime]);

  return (
    <div
      className="jp-Workspace-notePreview"
      ref={host}
      aria-label="Markdown preview"
      role="region"
    />
  );
}
