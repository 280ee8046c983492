/**
 * Where in a line a tool's column points. gcc (11 and later) counts display
 * columns, a tab advancing to the next multiple of 8; clang counts bytes, and
 * both agree with the character index on a line without tabs before the
 * column. The display reading is taken: on a tab-indented line a byte column
 * then lands at most a tab's width early, where the character reading would
 * put a gcc column up to 7 characters per tab late.
 */

/** gcc's default `-ftabstop`. */
const TAB_STOP = 8;

/**
 * The 0-based character index in `text` of the 1-based display `column`,
 * clamped to the line.
 */
export function columnIndex(text: string, column: number): number {
  let display = 0;
  for (let index = 0; index < text.length; index++) {
    if (display >= column - 1) {
      return index;
    }
    display =
      text[index] === '\t'
        ? (Math.floor(display / TAB_STOP) + 1) * TAB_STOP
        : display + 1;
  }
  return text.length;
}
