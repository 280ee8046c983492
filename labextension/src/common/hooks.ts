import { ISignal } from '@lumino/signaling';
import * as React from 'react';

import { errorMessage } from './request';

/** Render again whenever `signal` fires. */
export function useRerenderOn(signal: ISignal<unknown, unknown>): void {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const slot = (): void => setTick(tick => tick + 1);
    signal.connect(slot);
    return () => {
      signal.disconnect(slot);
    };
  }, [signal]);
}

/** Render again every `interval` ms, so relative times stay right. */
export function useClock(interval = 60000): void {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const timer = window.setInterval(() => setTick(tick => tick + 1), interval);
    return () => window.clearInterval(timer);
  }, [interval]);
}

/**
 * Run a button's action, keeping its failure's message until it is
 * dismissed or the next action starts: `[message, attempt, dismiss]`.
 */
export function useActionError(): [
  string,
  (action: () => Promise<void>) => Promise<void>,
  () => void
] {
  const [message, setMessage] = React.useState('');
  const attempt = React.useCallback(async (action: () => Promise<void>) => {
    try {
      setMessage('');
      await action();
    } catch (reason) {
      setMessage(errorMessage(reason));
    }
  }, []);
  const dismiss = React.useCallback(() => setMessage(''), []);
  return [message, attempt, dismiss];
}
