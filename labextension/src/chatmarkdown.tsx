/**
 * A chat message's markdown, rendered with JupyterLab's `text/markdown`
 * renderer and its sanitizer (the model is untrusted: LLM output is hostile).
 *
 * While an answer streams in, renders are throttled: at most one every
 * RENDER_INTERVAL_MS, the latest text last. Fenced code blocks get Copy and
 * Insert buttons after each render.
 */
import { Clipboard } from '@jupyterlab/apputils';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { disposeRenderer } from './markdownpreview';

const MIME_TYPE = 'text/markdown';

/** Shortest time between two renders of the same message, in ms. */
const RENDER_INTERVAL_MS = 80;

/** How long a button says "Copied" / "Inserted", in ms. */
const FEEDBACK_MS = 1500;

/** What the code block buttons do. */
export interface ICodeActions {
  /**
   * Insert code at the cursor of the active notebook cell or file editor.
   *
   * @returns `null` when inserted, else why not (shown to the user)
   */
  insert(code: string): string | null;
}

export interface IChatMarkdownProps {
  rendermime: IRenderMimeRegistry;
  source: string;
  /** Copy / Insert buttons on fenced code blocks (answers only). */
  codeActions?: ICodeActions;
  /** Called after each render (the height may have changed). */
  onRendered?: () => void;
}

type MarkdownRenderer = Widget & {
  renderModel(model: MimeModel): Promise<void>;
};

/** The text of a rendered code block, without the fence's final newline. */
function codeText(pre: HTMLElement): string {
  const code = pre.querySelector('code') ?? pre;
  return (code.textContent ?? '').replace(/\n$/, '');
}

/** The fence's language, from the `language-xxx` class marked gives `<code>`. */
function codeLanguage(pre: HTMLElement): string {
  const code = pre.querySelector('code');
  const match = /(?:^|\s)language-([\w+#.-]+)/.exec(code?.className ?? '');
  return match ? match[1] : '';
}

function flash(button: HTMLButtonElement, text: string): void {
  const label = button.dataset.label ?? button.textContent ?? '';
  button.textContent = text;
  window.setTimeout(() => {
    if (button.isConnected) {
      button.textContent = label;
    }
  }, FEEDBACK_MS);
}

function makeButton(
  label: string,
  className: string,
  description: string
): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `jp-Workspace-codeButton ${className}`;
  button.textContent = label;
  button.dataset.label = label;
  button.title = description;
  button.setAttribute('aria-label', description);
  return button;
}

/** Wrap each code block with a toolbar: language, Copy, Insert. */
function decorateCodeBlocks(
  host: HTMLElement,
  actions: () => ICodeActions | undefined
): void {
  host.querySelectorAll('pre').forEach(pre => {
    if (pre.parentElement?.classList.contains('jp-Workspace-codeBlock')) {
      return;
    }
    const wrapper = document.createElement('div');
    wrapper.className = 'jp-Workspace-codeBlock';
    const tools = document.createElement('div');
    tools.className = 'jp-Workspace-codeTools';
    const language = document.createElement('span');
    language.className = 'jp-Workspace-codeLanguage';
    language.textContent = codeLanguage(pre);
    const copy = makeButton('Copy', 'jp-Workspace-codeCopy', 'Copy the code');
    copy.addEventListener('click', () => {
      Clipboard.copyToSystem(codeText(pre));
      flash(copy, 'Copied');
    });
    const insert = makeButton(
      'Insert',
      'jp-Workspace-codeInsert',
      'Insert into editor: at the cursor of the active notebook cell or file'
    );
    insert.addEventListener('click', () => {
      const current = actions();
      const problem = current ? current.insert(codeText(pre)) : 'unavailable';
      flash(insert, problem === null ? 'Inserted' : 'No editor');
    });
    tools.append(language, copy, insert);
    pre.replaceWith(wrapper);
    wrapper.append(tools, pre);
  });
}

export function ChatMarkdown(props: IChatMarkdownProps): JSX.Element {
  const { rendermime, source } = props;
  const host = React.useRef<HTMLDivElement>(null);
  const latest = React.useRef(props);
  latest.current = props;
  const state = React.useRef({
    renderer: null as MarkdownRenderer | null,
    rendering: false,
    pending: null as string | null,
    last: 0,
    timer: undefined as number | undefined
  });

  const run = React.useCallback(async (): Promise<void> => {
    const s = state.current;
    s.timer = undefined;
    const renderer = s.renderer;
    const text = s.pending;
    if (!renderer || renderer.isDisposed || text === null || s.rendering) {
      return;
    }
    s.pending = null;
    s.rendering = true;
    try {
      await renderer.renderModel(
        new MimeModel({ data: { [MIME_TYPE]: text }, trusted: false })
      );
      if (!renderer.isDisposed && latest.current.codeActions) {
        decorateCodeBlocks(renderer.node, () => latest.current.codeActions);
      }
    } catch (error) {
      console.error(
        'jupyter-workspace: rendering a chat message failed',
        error
      );
    } finally {
      s.rendering = false;
      s.last = Date.now();
    }
    latest.current.onRendered?.();
    if (s.pending !== null) {
      schedule();
    }
  }, []);

  const schedule = React.useCallback((): void => {
    const s = state.current;
    if (s.timer !== undefined || s.rendering) {
      return;
    }
    const wait = Math.max(0, s.last + RENDER_INTERVAL_MS - Date.now());
    s.timer = window.setTimeout(() => void run(), wait);
  }, [run]);

  // A layout effect: its clean-up runs while the host is still in the page,
  // where Lumino can detach the renderer (a passive effect's clean-up runs
  // after React removed the host, and detaching then throws).
  React.useLayoutEffect(() => {
    const s = state.current;
    const renderer = rendermime.createRenderer(MIME_TYPE) as MarkdownRenderer;
    s.renderer = renderer;
    if (host.current) {
      Widget.attach(renderer, host.current);
    }
    return () => {
      window.clearTimeout(s.timer);
      s.timer = undefined;
      s.renderer = null;
      s.rendering = false;
      s.last = 0;
      disposeRenderer(renderer);
    };
  }, [rendermime]);

  React.useEffect(() => {
    state.current.pending = source;
    schedule();
  }, [source, rendermime, schedule]);

  return <div className="jp-Workspace-chatMarkdown" ref={host} />;
}
