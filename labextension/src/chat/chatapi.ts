/**
 * Typed calls to the coordinator's AI routes: chat, conversations, the
 * sidecar's state (docs/api.md, "The AI sidecar and chat").
 */
import { requestAPI } from '../common/request';
import type { IIndexStatus, ISourceRef } from '../search/searchapi';
import type { ILLMState } from '../sidecar/llmapi';

export type SidecarStateName =
  'starting' | 'ready' | 'restarting' | 'degraded' | 'stopped';

/** The supervisor's view of the AI sidecar (`sidecar` in the status). */
export interface ISidecarState {
  state: SidecarStateName;
  pid: number | null;
  restarts: number;
  error: string | null;
  /** Seconds until the next start attempt while `restarting`. */
  retry_in: number | null;
  uptime: number | null;
}

/** The server's LLM configuration (`llm` in the status); never a key. */
export interface ILLMConfig {
  model: string;
  api_base: string | null;
}

export interface IConversation {
  id: number;
  title: string;
  created: string;
  updated: string;
  /** The stream answering in this conversation right now, if any. */
  streaming: string | null;
}

export type MessageStatus = 'complete' | 'partial' | 'error';

/**
 * How an answer was made: from the workspace's passages, from the passages
 * alone because no model answered, or `null` (no index, or no passage found).
 */
export type AnswerMode = 'grounded' | 'retrieval-only';

export interface IChatMessage {
  id: number;
  conversation_id: number;
  role: 'user' | 'assistant';
  content: string;
  status: MessageStatus;
  error: string | null;
  model: string | null;
  created: string;
  /** The passages the answer was given (`[]` when none; absent from old servers). */
  sources?: ISourceRef[] | null;
  mode?: AnswerMode | null;
  /** The kind of a failed answer, else `null`. */
  error_kind?: ChatErrorKind | null;
}

export interface IConversationWithMessages extends IConversation {
  messages: IChatMessage[];
}

export type ChatErrorKind =
  | 'unreachable'
  | 'auth'
  | 'rate_limit'
  | 'not_found'
  | 'bad_request'
  | 'timeout'
  | 'sidecar'
  | 'other';

/** The per-request LLM overrides from the settings (empty: server default). */
export interface ILLMOverrides {
  model: string;
  apiBase: string;
}

export interface IChatStarted {
  conversation: IConversation;
  message: IChatMessage;
  stream_id: string;
}

export interface IStatus {
  sidecar?: ISidecarState;
  /** The server's LLM and whether it answers. */
  llm?: ILLMState;
  index?: IIndexStatus;
}

function jsonBody(method: string, value: unknown): RequestInit {
  return { method, body: JSON.stringify(value) };
}

function withOverrides(
  body: Record<string, unknown>,
  overrides: ILLMOverrides
): Record<string, unknown> {
  const model = overrides.model.trim();
  const apiBase = overrides.apiBase.trim();
  return {
    ...body,
    ...(model ? { model } : {}),
    ...(apiBase ? { api_base: apiBase } : {})
  };
}

export function getStatus(): Promise<IStatus> {
  return requestAPI<IStatus>('status');
}

export async function restartSidecar(): Promise<ISidecarState> {
  const answer = await requestAPI<{ sidecar: ISidecarState }>(
    'sidecar/restart',
    jsonBody('POST', {})
  );
  return answer.sidecar;
}

export async function listConversations(): Promise<IConversation[]> {
  const answer = await requestAPI<{ conversations: IConversation[] }>(
    'conversations'
  );
  return answer.conversations;
}

export function getConversation(
  id: number
): Promise<IConversationWithMessages> {
  return requestAPI<IConversationWithMessages>(`conversations/${id}`);
}

export function renameConversation(
  id: number,
  title: string
): Promise<IConversation> {
  return requestAPI<IConversation>(
    `conversations/${id}`,
    jsonBody('PATCH', { title })
  );
}

export async function deleteConversation(id: number): Promise<void> {
  await requestAPI<void>(`conversations/${id}`, { method: 'DELETE' });
}

/** Ask a question; without a conversation id a new conversation starts. */
export function sendChat(
  message: string,
  conversationId: number | null,
  overrides: ILLMOverrides
): Promise<IChatStarted> {
  const body: Record<string, unknown> = { message };
  if (conversationId !== null) {
    body.conversation_id = conversationId;
  }
  return requestAPI<IChatStarted>(
    'chat',
    jsonBody('POST', withOverrides(body, overrides))
  );
}

/** Ask the conversation's last question again, replacing its answer. */
export function retryChat(
  conversationId: number,
  overrides: ILLMOverrides
): Promise<IChatStarted> {
  return requestAPI<IChatStarted>(
    'chat',
    jsonBody(
      'POST',
      withOverrides({ conversation_id: conversationId, retry: true }, overrides)
    )
  );
}

export async function cancelChat(streamId: string): Promise<void> {
  await requestAPI<{ cancelled: boolean }>(
    `chat/${encodeURIComponent(streamId)}/cancel`,
    jsonBody('POST', {})
  );
}

/**
 * The kind of an error answer stored before messages carried `error_kind`.
 *
 * Only a fallback for such old rows: the stored `error_kind` (or the live
 * `chat.error` event's `kind`) is used whenever there is one.
 */
export function guessErrorKind(error: string | null): ChatErrorKind {
  const text = (error ?? '').toLowerCase();
  const rules: ReadonlyArray<[ChatErrorKind, string[]]> = [
    ['unreachable', ['no llm server answered']],
    ['auth', ['refused the api key']],
    ['rate_limit', ['rate-limiting', 'rate limit']],
    ['not_found', ['does not know the model']],
    ['timeout', ['did not answer in time']],
    ['sidecar', ['sidecar']],
    ['bad_request', ['refused the request']]
  ];
  for (const [kind, needles] of rules) {
    if (needles.some(needle => text.includes(needle))) {
      return kind;
    }
  }
  return 'other';
}
