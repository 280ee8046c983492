/**
 * Whether the LLM answers: the coordinator's probe (`llm` in the status,
 * `POST llm/check`, `llm.state` events).
 */
import { ILLMOverrides } from '../chat/chatapi';
import { requestAPI } from '../common/request';

/** protocol.LLM_STATES. */
export type LLMStateName =
  'checking' | 'ready' | 'unreachable' | 'no_model' | 'unknown';

/** Whether one model at one address answers (protocol.LLMDescription). */
export interface ILLMState {
  model: string;
  /** `null`: the provider's default address, which is not probed. */
  api_base: string | null;
  state: LLMStateName;
  /** Why it is not ready, for the user. */
  error: string | null;
  checked_at: number;
}

/**
 * Probe the LLM a chat with these overrides would ask (none: the server's);
 * `force` probes even if it was checked a moment ago (Test connection).
 */
export function checkLLM(
  overrides: ILLMOverrides | null,
  force: boolean
): Promise<ILLMState> {
  const model = overrides?.model.trim();
  const apiBase = overrides?.apiBase.trim();
  return requestAPI<ILLMState>('llm/check', {
    method: 'POST',
    body: JSON.stringify({
      force,
      ...(model ? { model } : {}),
      ...(apiBase ? { api_base: apiBase } : {})
    })
  });
}
