/**
 * Terminal output as styled text: the colours and weights of ANSI SGR codes
 * kept, every other escape and control character dropped, carriage returns
 * and backspaces applied the way a terminal shows them.
 *
 * The result is plain strings with style flags, rendered as React text, so
 * nothing in a run's output can become markup.
 */

/** A run of text in one style; `fg` is one of the 16 basic colours. */
export interface IStyledText {
  text: string;
  fg: number | null;
  bold: boolean;
  dim: boolean;
  underline: boolean;
}

type Style = Omit<IStyledText, 'text'>;

const PLAIN: Style = { fg: null, bold: false, dim: false, underline: false };

/**
 * An escape sequence (CSI, OSC, or a two-character one), a lone ESC cut off
 * at the end, a control character, or a run of text without any.
 */
const TOKEN =
  // eslint-disable-next-line no-control-regex -- control characters are what it finds
  /\x1b\[([0-?]*)[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|([\x00-\x08\x0b-\x1f\x7f])|([^\x00-\x08\x0b-\x1f\x7f]+)/g;

/** Apply one SGR sequence's parameters (`1;31`) to a style. */
function applySgr(style: Style, params: string): Style {
  const codes = params === '' ? [0] : params.split(';').map(Number);
  const next = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0 || Number.isNaN(code)) {
      Object.assign(next, PLAIN);
    } else if (code === 1) {
      next.bold = true;
    } else if (code === 2) {
      next.dim = true;
    } else if (code === 22) {
      next.bold = false;
      next.dim = false;
    } else if (code === 4) {
      next.underline = true;
    } else if (code === 24) {
      next.underline = false;
    } else if (code >= 30 && code <= 37) {
      next.fg = code - 30;
    } else if (code >= 90 && code <= 97) {
      next.fg = code - 90 + 8;
    } else if (code === 39) {
      next.fg = null;
    } else if (code === 38 || code === 48) {
      // 256 colours (`5;n`) keep the basic 16; true colour (`2;r;g;b`) is skipped.
      if (codes[i + 1] === 5) {
        if (code === 38) {
          next.fg = codes[i + 2] < 16 ? codes[i + 2] : null;
        }
        i += 2;
      } else if (codes[i + 1] === 2) {
        i += 4;
      }
    }
    // Backgrounds, blinking, inverse…: left out, the theme's background stays.
  }
  return next;
}

function sameStyle(a: Style, b: Style): boolean {
  return (
    a.fg === b.fg &&
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.underline === b.underline
  );
}

/** Terminal output as runs of styled text (line breaks are `\n` in the text). */
export function parseAnsi(output: string): IStyledText[] {
  const done: IStyledText[] = [];
  let line: IStyledText[] = [];
  let style: Style = PLAIN;

  const write = (text: string) => {
    const last = line[line.length - 1];
    if (last && sameStyle(last, style)) {
      last.text += text;
    } else {
      line.push({ ...style, text });
    }
  };

  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(output); match; match = TOKEN.exec(output)) {
    const [token, sgr, control, text] = match;
    if (text !== undefined) {
      // A line break ends the line; it stays in the text.
      const parts = text.split('\n');
      parts.forEach((part, index) => {
        if (index > 0) {
          write('\n');
          done.push(...line);
          line = [];
        }
        if (part) {
          write(part);
        }
      });
    } else if (control !== undefined) {
      if (control === '\r') {
        // `\r\n` is a plain line end; a lone `\r` starts the line again.
        if (output[TOKEN.lastIndex] !== '\n') {
          line = [];
        }
      } else if (control === '\b') {
        const last = line[line.length - 1];
        if (last) {
          last.text = last.text.slice(0, -1);
          if (!last.text) {
            line.pop();
          }
        }
      }
    } else if (sgr !== undefined && token.endsWith('m')) {
      style = applySgr(style, sgr);
    }
  }
  done.push(...line);
  // Merge across lines: fewer elements to render.
  const merged: IStyledText[] = [];
  for (const piece of done) {
    const last = merged[merged.length - 1];
    if (last && sameStyle(last, piece)) {
      last.text += piece.text;
    } else {
      merged.push({ ...piece });
    }
  }
  return merged;
}
