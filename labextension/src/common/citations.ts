/**
 * `[path:line]` and `[path:start-end]` citations in rendered, already
 * sanitized markdown (chat answers, notes, research reports) turned into
 * links that open the file at the line. Only text nodes are replaced, and
 * only with text and `<a>` elements made here: nothing from the markdown
 * becomes markup.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { ISource } from './api';
import { isPlainClick, sourceHref } from './opensource';
import { replaceTextNodes } from './textnodes';

/** The class of a citation link; `data-path` and `data-line` say where it goes. */
export const CITATION_CLASS = 'jp-Workspace-citation';

/** A cited passage's path: any such path is linked whatever it looks like. */
export interface ICitedPath {
  path: string;
}

/** A bracketed group that may hold citations: `[a.py:3]`, `[a.py:3-9; b.c:4]`. */
const CITATION_GROUP = /\[([^[\]\n]{1,400})\]/g;

/** One citation inside a group: `path:line` or `path:start-end`. */
const CITATION = /^([^\s:[\]]+):(\d{1,7})(?:\s*[-–]\s*(\d{1,7}))?$/;

/** A relative file path with an extension: `orbit.f90`, `src/nav/kalman.cpp`. */
const RELATIVE_PATH = /^[\w@+.-][\w@+./-]*\.[A-Za-z0-9_]{1,12}$/;

/** Elements whose text is never turned into citation links. */
const NO_CITATIONS = 'a, pre, code, kbd, samp, script, style, textarea';

/** The cited path as a root-relative path to open, or `null` when it is not one. */
function citedPath(
  raw: string,
  sources: ReadonlyArray<ICitedPath>
): string | null {
  const path = raw.replace(/^(?:\.\/)+/, '');
  if (sources.some(source => source.path === path)) {
    return path;
  }
  const segments = path.split('/');
  if (
    !RELATIVE_PATH.test(path) ||
    segments.some(segment => segment === '' || segment === '..')
  ) {
    return null;
  }
  return path;
}

function citationLink(
  text: string,
  path: string,
  line: number,
  endLine: number,
  trans: TranslationBundle
): HTMLElement {
  const link = document.createElement('a');
  link.className = CITATION_CLASS;
  link.href = sourceHref({ path });
  link.dataset.path = path;
  link.dataset.line = String(line);
  if (endLine > line) {
    link.dataset.endLine = String(endLine);
  }
  link.title = trans.__(
    'Open %1 at line %2 (Ctrl/⌘-click: in a new browser tab)',
    path,
    line
  );
  link.textContent = text;
  return link;
}

/**
 * The text split into strings and citation links, or `null` when it cites
 * nothing. Only text is produced: nothing from the answer becomes markup.
 */
function splitCitations(
  text: string,
  sources: ReadonlyArray<ICitedPath>,
  trans: TranslationBundle
): Array<string | HTMLElement> | null {
  const parts: Array<string | HTMLElement> = [];
  let last = 0;
  let found = false;
  CITATION_GROUP.lastIndex = 0;
  for (
    let group = CITATION_GROUP.exec(text);
    group;
    group = CITATION_GROUP.exec(text)
  ) {
    // Every item of the group must be a citation: `[see a.py:3]` is not one.
    const pieces = group[1].split(/(\s*[,;]\s*)/);
    const links: Array<string | HTMLElement> = [];
    let ok = true;
    pieces.forEach((piece, i) => {
      if (!ok || i % 2 === 1) {
        links.push(piece);
        return;
      }
      const match = CITATION.exec(piece.trim());
      const path = match ? citedPath(match[1], sources) : null;
      const line = match ? Number(match[2]) : 0;
      const endLine = match?.[3] ? Number(match[3]) : line;
      if (!path || line < 1) {
        ok = false;
        return;
      }
      links.push(citationLink(piece.trim(), path, line, endLine, trans));
    });
    if (!ok) {
      continue;
    }
    found = true;
    parts.push(text.slice(last, group.index), '[', ...links, ']');
    last = group.index + group[0].length;
  }
  if (!found) {
    return null;
  }
  parts.push(text.slice(last));
  return parts.filter(part => part !== '');
}

/** Turn the citations in a rendered answer's text into links. */
export function linkCitations(
  host: HTMLElement,
  sources: ReadonlyArray<ICitedPath>,
  trans: TranslationBundle
): void {
  replaceTextNodes(host, NO_CITATIONS, text =>
    text.includes('[') ? splitCitations(text, sources, trans) : null
  );
}

/**
 * Open the cited file when a citation link under `node` is clicked (a
 * modified click keeps the browser's behaviour: the link's lab/tree URL in a
 * new tab). Returns what removes the listener.
 */
export function handleCitationClicks(
  node: HTMLElement,
  open: (source: ISource) => void
): () => void {
  const onClick = (event: MouseEvent) => {
    const target = event.target as Element | null;
    const link = target?.closest?.<HTMLAnchorElement>(`a.${CITATION_CLASS}`);
    if (!link || !node.contains(link) || !isPlainClick(event)) {
      return;
    }
    event.preventDefault();
    const path = link.dataset.path ?? '';
    const line = Number(link.dataset.line);
    const endLine = Number(link.dataset.endLine);
    if (path) {
      open({
        path,
        line: line > 0 ? line : null,
        end_line: endLine > line ? endLine : null
      });
    }
  };
  node.addEventListener('click', onClick);
  return () => node.removeEventListener('click', onClick);
}
