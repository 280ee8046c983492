/**
 * Whether a button that asks the LLM (Summarize with the LLM, Refine
 * entities) can be used: while no LLM answers it is disabled, its tooltip
 * saying why, instead of failing with a long error banner.
 *
 * The views with those buttons sit deep in other features' widgets, which do
 * not hold the workspace client; the sidecar plugin hands this tab's one
 * SidecarModel over here once (`setLLMGate`).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { SidecarModel } from './sidecarmodel';

let gate: SidecarModel | null = null;

/** Set by the sidecar plugin; without it no button is held back. */
export function setLLMGate(model: SidecarModel): void {
  gate = model;
}

/**
 * Why the LLM cannot be asked now, as a tooltip for the button that would
 * ask it; empty while it answers (or cannot be known).
 */
export function useLLMBlocked(trans: TranslationBundle): string {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const model = gate;
    if (!model) {
      return;
    }
    const slot = (): void => setTick(tick => tick + 1);
    model.llmChanged.connect(slot);
    return () => {
      model.llmChanged.disconnect(slot);
    };
  }, []);
  const reason = gate?.llmUnavailableReason(trans) ?? '';
  return reason
    ? trans.__(
        '%1 Start one (see the Workspace Chat) or set it in Settings → Workspace.',
        reason
      )
    : '';
}
