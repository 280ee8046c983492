/**
 * Markdown that the user at the keyboard did not write (notes, chat answers,
 * file text, the `%workspace` magics' output) is hostile. It renders as
 * untrusted, through a sanitizer that keeps no command-linker attributes: a
 * sanitized `<button data-commandlinker-command=...>` still runs a JupyterLab
 * command (a terminal, say) on a click. Chat answers also load nothing remote
 * by themselves: a file the model read can tell it to put the user's data in
 * an image's URL.
 */
import { Sanitizer } from '@jupyterlab/apputils';
import {
  IRenderMimeRegistry,
  MimeModel,
  RenderedMarkdown
} from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime';

/** The `%workspace` magics' markdown (kernel/magics.py `MARKDOWN_MIME`). */
export const MARKDOWN_MIME_TYPE = 'application/vnd.jupyter-workspace.markdown';

/** sanitize-html options that drop every URL the browser would fetch unasked. */
const NO_REMOTE_RESOURCES = {
  allowedSchemesAppliedToAttributes: ['href', 'cite', 'src', 'poster'],
  allowedSchemesByTag: {
    img: ['data'],
    audio: ['data'],
    video: ['data'],
    input: ['data']
  },
  allowProtocolRelative: false,
  // Inline CSS can fetch an image with url(): no inline style at all.
  allowedStyles: { '*': {} }
};

/** JupyterLab's sanitizer, which also drops remote images, media and styles. */
class NoRemoteSanitizer extends Sanitizer {
  sanitize(dirty: string, options?: IRenderMime.ISanitizerOptions): string {
    return super.sanitize(dirty, { ...options, ...NO_REMOTE_RESOURCES });
  }
}

/** A sanitizer for hostile markdown: no command linker; for chat, nothing remote. */
function hostileSanitizer(
  base: IRenderMime.ISanitizer | undefined,
  kind: 'notes' | 'chat'
): Sanitizer {
  const sanitizer = kind === 'chat' ? new NoRemoteSanitizer() : new Sanitizer();
  sanitizer.setAllowCommandLinker(false);
  sanitizer.setAutolink(base?.getAutolink?.() ?? true);
  return sanitizer;
}

const clones = {
  notes: new WeakMap<IRenderMimeRegistry, IRenderMimeRegistry>(),
  chat: new WeakMap<IRenderMimeRegistry, IRenderMimeRegistry>()
};

/** The application's renderers, with the hostile-markdown sanitizer. */
export function hostileRendermime(
  rendermime: IRenderMimeRegistry,
  kind: 'notes' | 'chat'
): IRenderMimeRegistry {
  let clone = clones[kind].get(rendermime);
  if (!clone) {
    const sanitizer = hostileSanitizer(rendermime.sanitizer, kind);
    clone = rendermime.clone({ sanitizer });
    clones[kind].set(rendermime, clone);
  }
  return clone;
}

/**
 * The magics' markdown: always rendered as untrusted (sanitized), even in the
 * trusted output of a cell the user ran, which JupyterLab would otherwise put
 * in the page as the HTML it is.
 */
export class HostileMarkdownRenderer extends RenderedMarkdown {
  constructor(options: IRenderMime.IRendererOptions) {
    // `chat`: the magics show answers too.
    super({
      ...options,
      sanitizer: hostileSanitizer(options.sanitizer, 'chat')
    });
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    return super.renderModel(
      new MimeModel({
        data: model.data,
        metadata: model.metadata,
        trusted: false
      })
    );
  }
}
