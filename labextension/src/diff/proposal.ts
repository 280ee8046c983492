/**
 * What a code block of an answer proposes for a file: which file (the fence's
 * `lang path`), and the file's new text — the block in place of the
 * definition it rewrites when its first line names one in the file, else the
 * whole file.
 */
import { splitLines } from './linediff';

/** A relative path: `orbit.f90`, `src/nav/kalman.cpp` (no `..`, not absolute). */
const RELATIVE_PATH = /^[\w@+.-][\w@+./-]*$/;

/**
 * The file a fence names after its language (`src/a.py` of `python src/a.py`,
 * also `path=src/a.py`), or `null`.
 */
export function namedPath(rest: string): string | null {
  for (const word of rest.split(/\s+/)) {
    const path = safePath(
      word.replace(/^(?:path|file|title)=/, '').replace(/^["']|["']$/g, '')
    );
    if (path && /[./]/.test(path)) {
      return path;
    }
  }
  return null;
}

/** `path` as a root-relative path, or `null` if it is not one. */
export function safePath(raw: string): string | null {
  const path = raw.trim().replace(/^(?:\.\/)+/, '');
  if (
    !path ||
    !RELATIVE_PATH.test(path) ||
    path.split('/').some(part => part === '' || part === '..')
  ) {
    return null;
  }
  return path;
}

/** The proposed new text of a file, and which of its lines the block replaces. */
export interface IProposal {
  text: string;
  /** 1-based lines of the old text the block replaces; `null`: the whole file. */
  replaces: { start: number; end: number } | null;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/**
 * The file with the block in place: where the block's first line (a
 * definition's head) is found in the file, the block replaces that
 * definition — up to the line equal to the block's last line, or else the end
 * of its indented body; otherwise the block is the whole new file.
 */
export function propose(original: string, code: string): IProposal {
  const old = splitLines(original);
  const block = splitLines(code);
  const firstLine = block.find(line => line.trim() !== '');
  const newline = original.endsWith('\n') || original === '' ? '\n' : '';
  const whole = {
    text: block.join('\n') + (block.length ? newline : ''),
    replaces: null
  };
  if (!firstLine || old.length === 0 || block.length >= old.length) {
    return whole;
  }
  const start = old.findIndex(line => line.trim() === firstLine.trim());
  if (start < 0) {
    return whole;
  }
  const lastLine = [...block].reverse().find(line => line.trim() !== '') ?? '';
  let end = -1;
  const limit = Math.min(old.length, start + 4 * block.length + 40);
  if (block.length > 1) {
    for (let i = start + 1; i < limit; i++) {
      if (
        old[i].trim() === lastLine.trim() &&
        indentOf(old[i]) === indentOf(old[start])
      ) {
        end = i;
        break;
      }
    }
  }
  if (end < 0) {
    // the definition's indented body, and a closing `}` / `end` at its indent
    const indent = indentOf(old[start]);
    end = start;
    for (let i = start + 1; i < old.length; i++) {
      if (old[i].trim() === '') {
        continue;
      }
      if (indentOf(old[i]) > indent) {
        end = i;
        continue;
      }
      if (/^(?:[})\]]|end\b)/.test(old[i].trim())) {
        end = i;
      }
      break;
    }
  }
  const lines = [...old.slice(0, start), ...block, ...old.slice(end + 1)];
  return {
    text: lines.join('\n') + newline,
    replaces: { start: start + 1, end: end + 1 }
  };
}
