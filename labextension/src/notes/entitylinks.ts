/**
 * The names of a note's entities in its rendered preview, made buttons that
 * show where else each entity is mentioned.
 */
import { escapeRegExp, replaceTextNodes } from '../common/textnodes';
import { IEntity } from './entitiesapi';

/** The class of an entity's button; `data-entity-id` says which entity. */
export const ENTITY_LINK_CLASS = 'jp-Workspace-entityLink';

/** Elements whose text never becomes entity links (code blocks, links). */
const NO_ENTITY_LINKS = 'a, button, pre, kbd, samp, script, style, textarea';

/** A letter, digit or underscore: a name must not continue into one. */
const WORD_CHAR = '[\\p{L}\\p{N}_]';

/** The generic `id` pattern also matches what a more specific kind names. */
const GENERIC_KIND = 'id';

/**
 * The entity each name stands for: the first listed (most mentioned), unless
 * only the generic `id` kind claimed it first.
 */
function byName(entities: ReadonlyArray<IEntity>): Map<string, IEntity> {
  const names = new Map<string, IEntity>();
  for (const entity of entities) {
    const known = names.get(entity.name);
    if (
      entity.name.trim() &&
      (!known || (known.kind === GENERIC_KIND && entity.kind !== GENERIC_KIND))
    ) {
      names.set(entity.name, entity);
    }
  }
  return names;
}

/** The entity kind as a class name part: `jp-mod-kind-requirement`. */
export function kindClass(kind: string): string {
  return `jp-mod-kind-${kind.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}`;
}

function entityButton(text: string, entity: IEntity): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `${ENTITY_LINK_CLASS} ${kindClass(entity.kind)}`;
  button.dataset.entityId = String(entity.id);
  button.dataset.kind = entity.kind;
  button.setAttribute('aria-haspopup', 'dialog');
  button.title = `${entity.name} (${entity.kind}): show where it is mentioned`;
  button.textContent = text;
  return button;
}

/**
 * Make every whole-word occurrence of the entities' names in the rendered
 * markdown under `host` a button (longest names first, so `Star Tracker
 * subsystem` wins over `Star Tracker`).
 */
export function linkEntities(
  host: HTMLElement,
  entities: ReadonlyArray<IEntity>
): void {
  const names = byName(entities);
  if (names.size === 0) {
    return;
  }
  const alternatives = [...names.keys()]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|');
  const pattern = new RegExp(
    `(?<!${WORD_CHAR})(?:${alternatives})(?!${WORD_CHAR})`,
    'gu'
  );
  replaceTextNodes(host, NO_ENTITY_LINKS, text => {
    const parts: Array<string | Node> = [];
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      const entity = names.get(match[0]);
      const at = match.index ?? 0;
      if (entity) {
        parts.push(text.slice(last, at), entityButton(match[0], entity));
        last = at + match[0].length;
      }
    }
    if (last === 0) {
      return null;
    }
    parts.push(text.slice(last));
    return parts.filter(part => part !== '');
  });
}
