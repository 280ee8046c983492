// store.ts - in-memory task store for the dashboard
export type Tag = "TODO" | "FIXME" | "HACK";

export interface Item {
  todo: boolean;
  text: string;
}

// TODO(alice, 2026-12-01, #42): persist to IndexedDB
const items: Item[] = [];

export function add(text: string): Item {
  // HACK: ids are array indexes until the server assigns them
  const item: Item = { todo: true, text };
  items.push(item);
  return item;
}

/* XXX: linear scan */
export function find(text: string): Item | undefined {
  return items.find((i) => i.text === text);
}

export function render(): string {
  const header = `TODO: ${items.length} open`;
  /*
   * Rendering notes:
   * FIXME: escape HTML in the item text
   */
  return header + items.map((i) => `<li>${i.text}</li>`).join("");
}

const FIXME_COUNT: number = 0; // an identifier, not a task
const hint: string = "// BUG: a string with comment markers";
export default { add, find, render, FIXME_COUNT, hint };
