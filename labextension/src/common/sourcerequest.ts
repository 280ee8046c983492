/**
 * Open a source from a place that has no handle on the application: a MIME
 * renderer in a notebook output gets only its data, not the app's shell or
 * document manager.
 *
 * The renderer dispatches a DOM event that bubbles up to the page, where the
 * Workspace plugin listens and opens the file (or the note) as its own panels
 * do. Nothing is global, and the order in which the plugins activate does not
 * matter: without a listener the request says it was not handled.
 */
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import { ISource } from './api';

const OPEN_SOURCE_EVENT = 'jupyter-workspace:open-source';

/** The event's detail: what to open, and the answer of the listener. */
interface IOpenSourceRequest {
  readonly source: ISource;
  /** Set by the listener: settles once the source is open. */
  opened?: Promise<void>;
}

/**
 * Ask the page to open `source`, from a node in the document.
 *
 * Returns a promise that settles once it is open (it rejects with a message
 * for the user), or `null` when nothing on the page opens sources.
 */
export function requestOpenSource(
  from: Element,
  source: ISource
): Promise<void> | null {
  const request: IOpenSourceRequest = { source };
  from.dispatchEvent(
    new CustomEvent<IOpenSourceRequest>(OPEN_SOURCE_EVENT, {
      detail: request,
      bubbles: true
    })
  );
  return request.opened ?? null;
}

/** Open the sources that nodes under `target` ask for, until disposed. */
export function handleOpenSourceRequests(
  target: EventTarget,
  open: (source: ISource) => Promise<void>
): IDisposable {
  const listener = (event: Event) => {
    const request = (event as CustomEvent<IOpenSourceRequest>).detail;
    if (request && !request.opened) {
      request.opened = open(request.source);
    }
  };
  target.addEventListener(OPEN_SOURCE_EVENT, listener);
  return new DisposableDelegate(() => {
    target.removeEventListener(OPEN_SOURCE_EVENT, listener);
  });
}
