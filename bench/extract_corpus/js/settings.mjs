// settings.mjs - dashboard defaults
export const defaults = {
  refreshMs: 5000, // TODO(carol): make this per panel
  theme: 'dark',
  // HACK: the light theme is hidden until the contrast bug is fixed
  themes: ['dark'],
  labels: {
    todo: 'TODO',
    fixme: "FIXME: shown in the legend",
  },
};

//TODO: load the user's overrides from localStorage
export function merge(overrides) {
  const html = `<span class="todo">TODO: ${overrides.title ?? ''}</span>`;
  return { ...defaults, ...overrides, html }; /* XXX: shallow merge */
}
