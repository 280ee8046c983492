/**
 * The first-run guide of the Chat panel: while no LLM answers, how to start
 * one (Ollama) or choose a provider, and a Test connection button that checks
 * again and says what it found.
 */
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { Banner } from '../common/banner';
import { useRerenderOn } from '../common/hooks';
import { OpenSettingsButton } from '../common/settingslink';
import { useTranslation } from '../common/translation';
import { SidecarModel, llmAddress, modelName } from '../sidecar/sidecarmodel';

/** The model a newcomer pulls when the configured one is not Ollama's. */
const SUGGESTED_OLLAMA_MODEL = 'llama3.2';
/** A command to type, not words to translate. */
const OLLAMA_SERVE = 'ollama serve';

export function LLMGuide(props: { sidecar: SidecarModel }): JSX.Element | null {
  const { sidecar } = props;
  const trans = useTranslation();
  useRerenderOn(sidecar.changed);
  // Set by a Test connection, so that its outcome is said even when it is good news.
  const [tested, setTested] = React.useState(false);
  const headingId = React.useId();
  const llm = sidecar.llm;
  const reason = sidecar.llmUnavailableReason(trans);

  const test = async () => {
    await sidecar.checkLLM(true);
    setTested(true);
  };

  if (!llm) {
    return null;
  }
  if (!reason) {
    return tested && llm.state === 'ready' ? (
      <div className="jp-Workspace-llmConnected">
        <Banner kind="info" onDismiss={() => setTested(false)}>
          {trans.__(
            'Connected: the LLM at %1 answers; chat can use %2.',
            llmAddress(llm),
            llm.model
          )}
        </Banner>
      </div>
    ) : null;
  }

  const ollama = llm.model.startsWith('ollama');
  const pull = ollama ? modelName(llm.model) : SUGGESTED_OLLAMA_MODEL;
  return (
    <section
      className="jp-Workspace-llmGuide"
      aria-labelledby={headingId}
      data-state={llm.state}
    >
      <h3 id={headingId} className="jp-Workspace-llmGuideHeading">
        {reason}
      </h3>
      <p>
        {trans.__(
          'Search and the workspace passages work without one; chat answers and run summaries need an LLM.'
        )}
      </p>
      <ol className="jp-Workspace-llmGuideSteps">
        <li>
          {trans.__('Run a local model with Ollama, in a terminal:')}
          <code className="jp-Workspace-llmGuideCommand">{OLLAMA_SERVE}</code>
          <code className="jp-Workspace-llmGuideCommand">
            {`ollama pull ${pull}`}
          </code>
          {!ollama &&
            trans.__(
              'then set the chat model to ollama_chat/%1 in the settings.',
              pull
            )}
        </li>
        <li>
          {trans.__(
            'Or choose a provider (OpenAI, Anthropic, Gemini, an OpenAI-compatible server): set the chat model and the LLM server address in'
          )}{' '}
          <OpenSettingsButton>
            {trans.__('Settings → Workspace')}
          </OpenSettingsButton>
          .{' '}
          {trans.__(
            "API keys are set on the server only (WorkspaceApp.llm_api_key or the provider's variable, such as OPENAI_API_KEY)."
          )}
        </li>
      </ol>
      <div className="jp-Workspace-llmGuideActions">
        <Button
          type="button"
          className="jp-Workspace-textButton jp-Workspace-testConnection"
          onClick={() => void test()}
          disabled={sidecar.testingLLM}
          aria-busy={sidecar.testingLLM}
          title={trans.__('Check again whether the LLM answers')}
        >
          {sidecar.testingLLM
            ? trans.__('Testing…')
            : trans.__('Test connection')}
        </Button>
        <span
          className="jp-Workspace-llmGuideResult"
          role="status"
          aria-live="polite"
        >
          {sidecar.llmCheckError
            ? trans.__('Cannot test: %1', sidecar.llmCheckError)
            : tested && !sidecar.testingLLM
              ? trans.__(
                  'Still no answer (%1).',
                  llm.error || trans.__('checked just now')
                )
              : ''}
        </span>
      </div>
    </section>
  );
}
