import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { UUID } from '@lumino/coreutils';
import { TRANSLATION_DOMAIN } from './translation';

/**
 * The id of this browser tab, sent with every request as `X-Workspace-Client`.
 *
 * The server copies it into the `origin` of the events a request causes, so
 * this tab can tell its own echoes from changes made in other tabs.
 */
export const CLIENT_ID: string = UUID.uuid4();

/** The path of the workspace API below the server's base URL. */
export const API_PREFIX = 'workspace/api';

/**
 * A failed request to the workspace API.
 *
 * `message` is the server's `{"error": ...}` text when it sent one, so it can
 * be shown to the user as is; `body` keeps the whole JSON answer (a 409
 * carries the stored note or task as `current`).
 */
export class WorkspaceRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: Record<string, unknown> | null = null
  ) {
    super(message);
    this.name = 'WorkspaceRequestError';
  }
}

let defaultSettings: ServerConnection.ISettings | null = null;

/**
 * Use the application's server settings for all later requests.
 *
 * Called once at activation; until then requests build their own settings
 * from the page config, which gives the same base URL and token.
 */
export function setServerSettings(settings: ServerConnection.ISettings): void {
  defaultSettings = settings;
}

/**
 * The strings made below any view (a request that never reached the server);
 * the client plugin sets the user's language.
 */
let trans: TranslationBundle = nullTranslator.load(TRANSLATION_DOMAIN);

/** Use `bundle` for the errors `requestAPI` makes itself. */
export function setRequestTranslation(bundle: TranslationBundle): void {
  trans = bundle;
}

/** The server settings requests and the event socket use. */
export function serverSettings(): ServerConnection.ISettings {
  if (!defaultSettings) {
    defaultSettings = ServerConnection.makeSettings();
  }
  return defaultSettings;
}

/**
 * Call the workspace REST API.
 *
 * Goes through `ServerConnection.makeRequest`, so the request carries the
 * same token / XSRF credentials as JupyterLab's own calls.
 *
 * @param path - the route below `workspace/api`, e.g. `notes/3` or `tasks?status=all`
 * @param init - the fetch options; a JSON body is sent with its content type
 * @returns the parsed JSON answer, or `undefined` for a 204
 * @throws WorkspaceRequestError with the server's message for a 4xx/5xx answer
 *   or a network failure
 */
export async function requestAPI<T>(
  path = '',
  init: RequestInit = {}
): Promise<T> {
  const settings = serverSettings();
  const url = URLExt.join(settings.baseUrl, API_PREFIX, path);
  const headers = new Headers(init.headers ?? {});
  headers.set('X-Workspace-Client', CLIENT_ID);
  if (init.body !== undefined && !headers.has('Content-Type')) {
    headers.set('Content-Type', 'application/json');
  }

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { ...init, headers },
      settings
    );
  } catch (error) {
    throw new WorkspaceRequestError(
      trans.__('Cannot reach the Jupyter server: %1', (error as Error).message),
      0
    );
  }

  if (response.status === 204) {
    return undefined as T;
  }
  const text = await response.text();
  let data: unknown = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const body =
      data !== null && typeof data === 'object'
        ? (data as Record<string, unknown>)
        : null;
    const message =
      body && typeof body.error === 'string'
        ? body.error
        : `${response.status} ${response.statusText || 'request failed'}`;
    throw new WorkspaceRequestError(message, response.status, body);
  }
  return data as T;
}

/** Turn anything thrown into a message fit for the user. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/**
 * Why a request that asks the language model failed (summaries, entity
 * refinement), in words that say what to do about it.
 *
 * @param failed - what failed, for other errors: "Refining the entities failed"
 */
export function llmFailure(
  error: unknown,
  failed: string,
  trans: TranslationBundle
): string {
  const reason = errorMessage(error);
  if (error instanceof WorkspaceRequestError) {
    if (error.status === 503) {
      return trans.__(
        'The AI sidecar is not available, so the LLM cannot be asked now: %1',
        reason
      );
    }
    if (error.status === 502) {
      return trans.__(
        'The language model failed or gave an answer that could not be used: %1',
        reason
      );
    }
  }
  return trans.__('%1: %2', failed, reason);
}
