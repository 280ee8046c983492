/**
 * A row of toggle buttons with one pressed: a view mode, a list filter.
 */
import * as React from 'react';
import { Button } from '@jupyterlab/ui-components';

export interface ISegmentedChoice<T extends string> {
  value: T;
  label: string;
  /** The tooltip. */
  title?: string;
}

export interface ISegmentedButtonsProps<T extends string> {
  /** Classes besides `jp-Workspace-segmented`. */
  className?: string;
  /** What the group chooses, for assistive technology. */
  label: string;
  /** The attribute that carries each button's value, for tests. */
  attribute: `data-${string}`;
  choices: ReadonlyArray<ISegmentedChoice<T>>;
  value: T;
  onChange: (value: T) => void;
}

export function SegmentedButtons<T extends string>(
  props: ISegmentedButtonsProps<T>
): JSX.Element {
  const { value, onChange } = props;
  return (
    <div
      className={`jp-Workspace-segmented${
        props.className ? ` ${props.className}` : ''
      }`}
      role="group"
      aria-label={props.label}
    >
      {props.choices.map(item => (
        <Button
          key={item.value}
          type="button"
          className={`jp-Workspace-modeButton${
            value === item.value ? ' jp-mod-active' : ''
          }`}
          {...{ [props.attribute]: item.value }}
          title={item.title}
          aria-pressed={value === item.value}
          onClick={() => onChange(item.value)}
        >
          {item.label}
        </Button>
      ))}
    </div>
  );
}
