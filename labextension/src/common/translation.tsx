/**
 * The extension's strings for the user's language: plugins load one
 * `TranslationBundle` from `ITranslator`, and the React views below a panel's
 * root read it from `TranslationContext` instead of threading a prop through
 * every component.
 */
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import * as React from 'react';

/** The gettext domain of jupyter-workspace's strings. */
export const TRANSLATION_DOMAIN = 'jupyter_workspace';

/** The bundle a plugin passes down; English when JupyterLab has no translator. */
export function loadTranslation(
  translator: ITranslator | null
): TranslationBundle {
  return (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
}

/**
 * The bundle of the panel a component renders in; English outside a
 * provider (a component rendered on its own, in a test).
 */
export const TranslationContext = React.createContext<TranslationBundle>(
  nullTranslator.load(TRANSLATION_DOMAIN)
);

/** The bundle for the strings of a function component. */
export function useTranslation(): TranslationBundle {
  return React.useContext(TranslationContext);
}

/** `element` with `trans` provided to every component inside it. */
export function translated(
  trans: TranslationBundle,
  element: JSX.Element
): JSX.Element {
  return (
    <TranslationContext.Provider value={trans}>
      {element}
    </TranslationContext.Provider>
  );
}
