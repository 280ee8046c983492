/**
 * Markdown task lists (`- [ ] item`, `- [x] item`): which lines the rendered
 * checkboxes stand for, and the markdown with one of them ticked or not.
 *
 * The rendered checkboxes come in document order, one per task-list item, so
 * the n-th checkbox is the n-th such line outside fenced code. The preview
 * lets a checkbox change the markdown only when the counts agree: a raw HTML
 * checkbox or a construct read differently here than by the renderer then
 * leaves the note as it is.
 */

const FENCE = /^\s{0,3}(```|~~~)/;
// A list item (also quoted) whose text starts with a checkbox: the box's
// state is group 2.
const TASK_ITEM = /^(\s*(?:>\s*)*(?:[-*+]|\d{1,9}[.)])\s+\[)([ xX])(\]\s)/;

/** The line numbers (0-based) of the task-list items, in document order. */
export function taskListLines(markdown: string): number[] {
  const found: number[] = [];
  let fence = '';
  markdown.split('\n').forEach((line, number) => {
    const opening = FENCE.exec(line);
    if (opening) {
      if (!fence) {
        fence = opening[1];
      } else if (opening[1] === fence) {
        fence = '';
      }
      return;
    }
    if (!fence && TASK_ITEM.test(line)) {
      found.push(number);
    }
  });
  return found;
}

/**
 * The markdown with its `index`-th task-list item ticked (`[x]`) or not
 * (`[ ]`); `null` when there is no such item.
 */
export function setTaskListItem(
  markdown: string,
  index: number,
  checked: boolean
): string | null {
  const number = taskListLines(markdown)[index];
  if (number === undefined) {
    return null;
  }
  const lines = markdown.split('\n');
  lines[number] = lines[number].replace(
    TASK_ITEM,
    (_, head: string, _box: string, tail: string) =>
      `${head}${checked ? 'x' : ' '}${tail}`
  );
  return lines.join('\n');
}
