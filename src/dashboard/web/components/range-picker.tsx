/** 24 h / 7 d / 30 d / custom range buttons; custom asks for two UTC days. */
import { useState } from 'preact/hooks';
import { customRange, isoDay, presetRange, type RangePreset, type TimeRange } from '../range.ts';

const presets: { value: Exclude<RangePreset, 'custom'>; label: string }[] = [
  { value: '24h', label: '24 h' },
  { value: '7d', label: '7 d' },
  { value: '30d', label: '30 d' },
];

export function RangePicker(props: { range: TimeRange; onChange: (range: TimeRange) => void }) {
  const [startDay, setStartDay] = useState(isoDay(props.range.start));
  const [endDay, setEndDay] = useState(isoDay(props.range.end - 1));
  const [custom, setCustom] = useState(props.range.preset === 'custom');
  return (
    <fieldset class="range-picker">
      <legend class="visually-hidden">Time range</legend>
      <div class="segmented">
        {presets.map((preset) => (
          <button
            type="button"
            key={preset.value}
            class={`button ${props.range.preset === preset.value && !custom ? 'selected' : ''}`}
            aria-pressed={props.range.preset === preset.value && !custom}
            onClick={() => {
              setCustom(false);
              props.onChange(presetRange(preset.value));
            }}
          >
            {preset.label}
          </button>
        ))}
        <button type="button" class={`button ${custom ? 'selected' : ''}`} aria-pressed={custom} onClick={() => setCustom(true)}>
          Custom
        </button>
      </div>
      {custom ? (
        <form
          class="custom-range"
          onSubmit={(event) => {
            event.preventDefault();
            const range = customRange(startDay, endDay);
            if (range) props.onChange(range);
          }}
        >
          <label>
            From <input type="date" value={startDay} onInput={(event) => setStartDay((event.target as HTMLInputElement).value)} />
          </label>
          <label>
            To <input type="date" value={endDay} onInput={(event) => setEndDay((event.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="button">
            Apply
          </button>
        </form>
      ) : null}
    </fieldset>
  );
}
