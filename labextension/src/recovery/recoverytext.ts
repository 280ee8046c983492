/**
 * Texts the recovery compares and writes: a notebook as readable lines (its
 * cells and outputs, not its JSON), and the name of a recovered copy.
 */
import { PathExt } from '@jupyterlab/coreutils';

import { SnapshotKind } from './snapshotapi';

interface ICellLike {
  cell_type?: unknown;
  source?: unknown;
  outputs?: unknown;
}

function joined(value: unknown): string {
  if (Array.isArray(value)) {
    return value.filter(part => typeof part === 'string').join('');
  }
  return typeof value === 'string' ? value : '';
}

function outputLines(output: Record<string, unknown>): string[] {
  if (output.output_type === 'stream') {
    return joined(output.text).split('\n');
  }
  if (output.output_type === 'error') {
    return [
      `${String(output.ename ?? 'Error')}: ${String(output.evalue ?? '')}`
    ];
  }
  const data = (output.data ?? {}) as Record<string, unknown>;
  if ('text/plain' in data) {
    return joined(data['text/plain']).split('\n');
  }
  return Object.keys(data).map(mime => `[${mime} output]`);
}

/**
 * A notebook's JSON as lines a person can compare: each cell's type and
 * source, its outputs' text (an image or other rich output as its MIME type).
 * Text that is not a notebook is returned as it is.
 */
export function notebookText(json: string): string {
  let data: { cells?: unknown };
  try {
    data = JSON.parse(json);
  } catch {
    return json;
  }
  if (!data || !Array.isArray(data.cells)) {
    return json;
  }
  const lines: string[] = [];
  data.cells.forEach((raw: unknown, index: number) => {
    const cell = (raw ?? {}) as ICellLike;
    lines.push(
      `# ── cell ${index + 1} (${String(cell.cell_type ?? 'code')}) ──`
    );
    lines.push(...joined(cell.source).split('\n'));
    if (Array.isArray(cell.outputs)) {
      for (const output of cell.outputs) {
        if (output && typeof output === 'object') {
          lines.push(
            ...outputLines(output as Record<string, unknown>).map(
              line => `#> ${line}`
            )
          );
        }
      }
    }
  });
  return lines.join('\n') + '\n';
}

/** What a diff shows of a document's text. */
export function comparable(kind: SnapshotKind, text: string): string {
  return kind === 'notebook' ? notebookText(text) : text;
}

/** `dir/name (recovered 2026-12-04 17.30).ext`: the copy kept beside a changed file. */
export function recoveredCopyPath(path: string, when: Date, n = 0): string {
  const dir = PathExt.dirname(path);
  const ext = PathExt.extname(path);
  const stem = PathExt.basename(path, ext);
  const pad = (v: number) => String(v).padStart(2, '0');
  const stamp =
    `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ` +
    `${pad(when.getHours())}.${pad(when.getMinutes())}`;
  const suffix = n > 0 ? ` ${n + 1}` : '';
  const name = `${stem} (recovered ${stamp}${suffix})${ext}`;
  return dir ? PathExt.join(dir, name) : name;
}
