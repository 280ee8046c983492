/**
 * A failed answer: a headline that says what to do by the error's kind, then
 * the server's text.
 */
import * as React from 'react';

import { ChatErrorKind, ILLMConfig } from './chatapi';

/** The headline of an error answer, by kind; the server's text follows it. */
function errorHeadline(
  kind: ChatErrorKind,
  model: string | null,
  llm: ILLMConfig | null,
  apiBaseOverride: string
): string {
  const usedModel = model || llm?.model || 'the model';
  switch (kind) {
    case 'unreachable': {
      const where =
        apiBaseOverride.trim() ||
        llm?.api_base ||
        "the provider's default address";
      const hint = usedModel.startsWith('ollama')
        ? 'is Ollama running (`ollama serve`)?'
        : 'is the LLM server running?';
      return `No LLM reachable at ${where} — ${hint}`;
    }
    case 'auth':
      return `The provider refused the API key for ${usedModel}. API keys are set on the server only (WorkspaceApp.llm_api_key or the provider's environment variable).`;
    case 'rate_limit':
      return `The provider is rate-limiting ${usedModel}: wait a moment, then retry.`;
    case 'not_found':
      return `The provider does not know the model “${usedModel}”: check the model name (the llmModel setting or the server's WorkspaceApp.llm_model).`;
    case 'timeout':
      return `${usedModel} did not answer in time.`;
    case 'sidecar':
      return 'The AI sidecar stopped while answering; it is being restarted.';
    case 'bad_request':
      return `The provider refused the request for ${usedModel}.`;
    default:
      return 'The answer failed.';
  }
}

interface IChatErrorProps {
  kind: ChatErrorKind;
  error: string | null;
  model: string | null;
  llm: ILLMConfig | null;
  apiBase: string;
  children?: React.ReactNode;
}

export function ChatError(props: IChatErrorProps): JSX.Element {
  const { kind, error, model, llm, apiBase, children } = props;
  return (
    <div className="jp-Workspace-chatError" data-kind={kind} role="alert">
      <div className="jp-Workspace-chatErrorHeadline">
        {errorHeadline(kind, model, llm, apiBase)}
      </div>
      {error && <div className="jp-Workspace-chatErrorDetail">{error}</div>}
      {children && <div className="jp-Workspace-bannerActions">{children}</div>}
    </div>
  );
}
