/**
 * A failed answer: a headline that says what to do by the error's kind, then
 * the server's text.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { useTranslation } from '../common/translation';
import { ChatErrorKind, ILLMConfig } from './chatapi';

/** The headline of an error answer, by kind; the server's text follows it. */
function errorHeadline(
  kind: ChatErrorKind,
  model: string | null,
  llm: ILLMConfig | null,
  apiBaseOverride: string,
  trans: TranslationBundle
): string {
  const usedModel = model || llm?.model || trans.__('the model');
  switch (kind) {
    case 'unreachable': {
      const where =
        apiBaseOverride.trim() ||
        llm?.api_base ||
        trans.__("the provider's default address");
      const hint = usedModel.startsWith('ollama')
        ? trans.__('is Ollama running (`ollama serve`)?')
        : trans.__('is the LLM server running?');
      return trans.__('No LLM reachable at %1 — %2', where, hint);
    }
    case 'auth':
      return trans.__(
        "The provider refused the API key for %1. API keys are set on the server only (WorkspaceApp.llm_api_key or the provider's environment variable).",
        usedModel
      );
    case 'rate_limit':
      return trans.__(
        'The provider is rate-limiting %1: wait a moment, then retry.',
        usedModel
      );
    case 'not_found':
      return trans.__(
        "The provider does not know the model “%1”: check the model name (the llmModel setting or the server's WorkspaceApp.llm_model).",
        usedModel
      );
    case 'timeout':
      return trans.__('%1 did not answer in time.', usedModel);
    case 'sidecar':
      return trans.__(
        'The AI sidecar stopped while answering; it is being restarted.'
      );
    case 'bad_request':
      return trans.__('The provider refused the request for %1.', usedModel);
    default:
      return trans.__('The answer failed.');
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
  const trans = useTranslation();
  return (
    <div className="jp-Workspace-chatError" data-kind={kind} role="alert">
      <div className="jp-Workspace-chatErrorHeadline">
        {errorHeadline(kind, model, llm, apiBase, trans)}
      </div>
      {error && <div className="jp-Workspace-chatErrorDetail">{error}</div>}
      {children && <div className="jp-Workspace-bannerActions">{children}</div>}
    </div>
  );
}
