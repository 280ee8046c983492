/**
 * Wait until widget activations already requested have run.
 *
 * Lumino processes activate requests on the next animation frame; the
 * command palette, for one, re-activates the widget it was opened from when
 * it closes. Focusing after two frames keeps that from taking focus back.
 */
export function afterPendingActivation(): Promise<void> {
  return new Promise(resolve =>
    requestAnimationFrame(() => requestAnimationFrame(() => resolve()))
  );
}
