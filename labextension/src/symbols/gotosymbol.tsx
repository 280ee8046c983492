/**
 * Go to Symbol: a dialog that finds a definition by name as the user types
 * (the lookup route, from the index's definitions) and opens the editor at
 * its line. Arrows move, Enter opens the active one, Escape closes.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ISource } from '../common/api';
import { translated, useTranslation } from '../common/translation';
import {
  ILookupItem,
  LookupType,
  MAX_LOOKUP_CHARS,
  itemSource
} from './lookupapi';
import { LookupList, moveActive, optionId, useLookup } from './typeahead';

const SYMBOL_TYPES: ReadonlyArray<LookupType> = ['symbol'];
const LIST_ID = 'jp-Workspace-gotoSymbol-list';

interface ISymbolSearchProps {
  /** Tells the dialog which item Enter (or a click) opens. */
  onActive: (item: ILookupItem | null) => void;
  /** A click on an item: open it now. */
  onPick: () => void;
}

function SymbolSearch(props: ISymbolSearchProps): JSX.Element {
  const { onActive, onPick } = props;
  const trans = useTranslation();
  const [query, setQuery] = React.useState('');
  const input = React.useRef<HTMLInputElement>(null);
  // the dialog focuses its body before React has rendered the input
  React.useEffect(() => input.current?.focus(), []);
  const [active, setActive] = React.useState(0);
  const found = useLookup(query.trim() ? query.trim() : null, SYMBOL_TYPES, 30);
  const items = found.items;
  React.useEffect(() => setActive(0), [items]);
  React.useEffect(() => {
    onActive(items[Math.min(active, items.length - 1)] ?? null);
  }, [items, active]);
  const answered = found.query !== null && found.query === query.trim();
  return (
    <div className="jp-Workspace-gotoSymbol">
      <input
        ref={input}
        className="jp-Workspace-gotoSymbolInput jp-mod-styled"
        type="text"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={items.length > 0}
        aria-controls={items.length > 0 ? LIST_ID : undefined}
        aria-activedescendant={
          items.length > 0
            ? optionId(LIST_ID, Math.min(active, items.length - 1))
            : undefined
        }
        aria-label={trans.__('Definition name')}
        placeholder={trans.__('Name of a function, class, method…')}
        maxLength={MAX_LOOKUP_CHARS}
        value={query}
        onChange={event => setQuery(event.target.value)}
        onKeyDown={event => {
          if (['ArrowDown', 'ArrowUp'].includes(event.key)) {
            event.preventDefault();
            setActive(moveActive(active, event.key, items.length));
          }
        }}
      />
      <LookupList
        id={LIST_ID}
        query={found.query}
        items={items}
        active={active}
        label={trans.__('Definitions')}
        empty={
          answered
            ? (found.error ??
              trans.__('No definition matches “%1”', query.trim()))
            : null
        }
        onChoose={item => {
          onActive(item);
          onPick();
        }}
        onHover={setActive}
      />
    </div>
  );
}

/** The dialog's body: remembers the item Enter would open. */
class SymbolSearchBody
  extends ReactWidget
  implements Dialog.IBodyWidget<ILookupItem | null>
{
  constructor(
    private readonly _trans: TranslationBundle,
    private readonly _pick: () => void
  ) {
    super();
    this.addClass('jp-Workspace-gotoSymbolBody');
  }

  getValue(): ILookupItem | null {
    return this._active;
  }

  protected render(): JSX.Element {
    return translated(
      this._trans,
      <SymbolSearch
        onActive={item => {
          this._active = item;
        }}
        onPick={this._pick}
      />
    );
  }

  private _active: ILookupItem | null = null;
}

/**
 * Ask for a definition and open it; resolves once the dialog is closed.
 *
 * @param open - opens a source (the file at the definition's line)
 */
export async function goToSymbol(
  trans: TranslationBundle,
  open: (source: ISource) => Promise<void>
): Promise<void> {
  let dialog: Dialog<ILookupItem | null> | null = null;
  const body = new SymbolSearchBody(trans, () => dialog?.resolve(1));
  dialog = new Dialog({
    title: trans.__('Go to Symbol'),
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Open') })
    ],
    focusNodeSelector: 'input',
    defaultButton: 1
  });
  dialog.addClass('jp-Workspace-gotoSymbolDialog');
  const result = await dialog.launch();
  const item = result.value;
  if (result.button.accept && item) {
    await open(itemSource(item));
  }
}
