/**
 * Status texts through the runtime's message catalogue (nodes/locales/<lang>/<type>.json, loaded by
 * Node-RED for the runtime language), with the English text as fallback where no catalogue is
 * loaded (the test helper) or a key is missing. Placeholders are Node-RED's `__name__`.
 */
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

export function localText(t: Translate | undefined, key: string, fallback: string, vars: Record<string, string | number> = {}): string {
  let r: string | undefined;
  try {
    r = t?.(key, vars);
  } catch {
    r = undefined;
  }
  if (typeof r === 'string' && r && !r.endsWith(key)) return r;
  return fallback.replace(/__(\w+)__/g, (_m, k: string) => String(vars[k] ?? ''));
}
