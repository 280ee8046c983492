/**
 * Turn pieces of rendered, already sanitized HTML into elements by replacing
 * its text nodes: the text itself never becomes markup.
 */

/** A text escaped to match itself in a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replace each text node under `host` that is not inside an element matching
 * `skip` with what `split` makes of its text.
 *
 * @param split - the text's strings and new nodes in order, or `null` to
 *   leave the text node as it is
 */
export function replaceTextNodes(
  host: HTMLElement,
  skip: string,
  split: (text: string) => Array<string | Node> | null
): void {
  const walker = document.createTreeWalker(host, NodeFilter.SHOW_TEXT);
  const nodes: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement?.closest(skip)) {
      nodes.push(node as Text);
    }
  }
  // Replaced only after the walk, which a changing tree would confuse.
  for (const node of nodes) {
    const parts = split(node.data);
    if (parts) {
      node.replaceWith(...parts);
    }
  }
}
