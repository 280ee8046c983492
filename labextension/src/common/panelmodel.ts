/**
 * What every panel model shares: a `changed` signal, disposal, and the last
 * failed request's message shown until dismissed.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage } from './request';

export abstract class PanelModel implements IDisposable {
  /** The last failed request's message, shown until dismissed. */
  get error(): string {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dismissError(): void {
    this._error = '';
    this._emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** Show a failed request's message (a disposed model ignores it). */
  protected _fail(error: unknown): void {
    if (this._isDisposed) {
      return;
    }
    this._error = errorMessage(error);
    this._emit();
  }

  protected _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit(undefined);
    }
  }

  protected _error = '';
  protected _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}
