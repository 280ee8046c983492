/**
 * A chat message's markdown, rendered with JupyterLab's `text/markdown`
 * renderer, untrusted, through a sanitizer that keeps no command linker and
 * nothing the browser would fetch from elsewhere (LLM output is hostile).
 *
 * While an answer streams in, renders are throttled: at most one every
 * RENDER_INTERVAL_MS, the latest text last. Fenced code blocks get Copy and
 * Insert buttons after each render, and `[path:line]` citations become links
 * that open the file at the line.
 */
import { Clipboard } from '@jupyterlab/apputils';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { ISource } from '../common/api';
import { hostileRendermime } from '../common/hostilemarkdown';
import { disposeRenderer } from '../common/markdownpreview';
import { linkCitations } from '../common/citations';
import { isPlainClick } from '../common/opensource';
import { useTranslation } from '../common/translation';
import { ISourceRef } from '../search/searchapi';

// Where the magics' answer view and older code import it from.
export { linkCitations };

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
  /**
   * Review the code as a diff of a file and write it: the file the fence
   * names (`python src/a.py`), else one of the cited files, else asked.
   */
  apply?(code: string, target: ICodeTarget): void;
}

/** Which file a code block may be applied to. */
export interface ICodeTarget {
  /** The path after the fence's language, as written; `''`: none. */
  path: string;
  /** The files the answer cites (its passages'). */
  cited: string[];
}

/** What turns `[path:line]` citations of an answer into links. */
export interface ICitations {
  /** The answer's passages: their paths are linked whatever they look like. */
  sources: ReadonlyArray<ISourceRef>;
  /** Open a cited file at its line. */
  open: (source: ISource) => void;
}

export interface IChatMarkdownProps {
  rendermime: IRenderMimeRegistry;
  source: string;
  /** Copy / Insert buttons on fenced code blocks (answers only). */
  codeActions?: ICodeActions;
  /** Links for `[path:line]` / `[path:start-end]` citations (answers only). */
  citations?: ICitations;
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

/** The info strings of the markdown's fenced code blocks, in order. */
function fenceInfos(markdown: string): string[] {
  const infos: string[] = [];
  let open = '';
  for (const line of markdown.split('\n')) {
    const match = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!match) {
      continue;
    }
    if (!open) {
      open = match[1];
      infos.push(match[2].trim());
    } else if (
      match[1][0] === open[0] &&
      match[1].length >= open.length &&
      !match[2].trim()
    ) {
      open = '';
    }
  }
  return infos;
}

/** Wrap each code block with a toolbar: language, Copy, Insert, Apply…. */
function decorateCodeBlocks(
  host: HTMLElement,
  actions: () => ICodeActions | undefined,
  trans: TranslationBundle,
  markdown: string,
  cited: string[]
): void {
  const infos = fenceInfos(markdown);
  host.querySelectorAll('pre').forEach((pre, index) => {
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
    const copy = makeButton(
      trans.__('Copy'),
      'jp-Workspace-codeCopy',
      trans.__('Copy the code')
    );
    copy.addEventListener('click', () => {
      Clipboard.copyToSystem(codeText(pre));
      flash(copy, trans.__('Copied'));
    });
    const insert = makeButton(
      trans.__('Insert'),
      'jp-Workspace-codeInsert',
      trans.__(
        'Insert into editor: at the cursor of the active notebook cell or file'
      )
    );
    insert.addEventListener('click', () => {
      const current = actions();
      const problem = current ? current.insert(codeText(pre)) : 'unavailable';
      flash(
        insert,
        problem === null ? trans.__('Inserted') : trans.__('No editor')
      );
    });
    tools.append(language, copy, insert);
    if (actions()?.apply) {
      const apply = makeButton(
        trans.__('Apply…'),
        'jp-Workspace-codeApply',
        trans.__(
          'Apply to a file: review the change hunk by hunk, then write it'
        )
      );
      // the file after the fence's language (`python src/a.py`), if any
      const path = (infos[index] ?? '').split(/\s+/).slice(1).join(' ');
      apply.dataset.path = path;
      apply.addEventListener('click', () => {
        actions()?.apply?.(codeText(pre), { path, cited });
      });
      tools.append(apply);
    }
    pre.replaceWith(wrapper);
    wrapper.append(tools, pre);
  });
}

export function ChatMarkdown(props: IChatMarkdownProps): JSX.Element {
  const { rendermime, source } = props;
  const host = React.useRef<HTMLDivElement>(null);
  const trans = useTranslation();
  // The render runs after awaits: it reads the newest props (and bundle).
  const latest = React.useRef({ ...props, trans });
  latest.current = { ...props, trans };
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
        decorateCodeBlocks(
          renderer.node,
          () => latest.current.codeActions,
          latest.current.trans,
          text,
          [...new Set(latest.current.citations?.sources.map(s => s.path))]
        );
      }
      const citations = latest.current.citations;
      if (!renderer.isDisposed && citations) {
        linkCitations(renderer.node, citations.sources, latest.current.trans);
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
    const renderer = hostileRendermime(rendermime, 'chat').createRenderer(
      MIME_TYPE
    ) as MarkdownRenderer;
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

  // New sources may make more citations linkable: render again.
  const sourceKey = (props.citations?.sources ?? [])
    .map(s => `${s.path}:${s.start_line}`)
    .join('\n');
  const firstSources = React.useRef(true);
  React.useEffect(() => {
    if (firstSources.current) {
      firstSources.current = false;
      return;
    }
    state.current.pending = latest.current.source;
    schedule();
  }, [sourceKey, schedule]);

  // A click on a citation opens the file at the line (a modified click
  // keeps the browser's behaviour: the link's lab/tree URL in a new tab).
  React.useEffect(() => {
    const node = host.current;
    if (!node) {
      return;
    }
    const onClick = (event: MouseEvent) => {
      const target = event.target as Element | null;
      const link = target?.closest?.<HTMLAnchorElement>(
        'a.jp-Workspace-citation'
      );
      const citations = latest.current.citations;
      if (!link || !node.contains(link) || !citations) {
        return;
      }
      if (!isPlainClick(event)) {
        return;
      }
      event.preventDefault();
      const path = link.dataset.path ?? '';
      const line = Number(link.dataset.line);
      if (path) {
        citations.open({ path, line: line > 0 ? line : null });
      }
    };
    node.addEventListener('click', onClick);
    return () => node.removeEventListener('click', onClick);
  }, []);

  return <div className="jp-Workspace-chatMarkdown" ref={host} />;
}
