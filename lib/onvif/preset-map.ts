/**
 * Our preset numbers (GB28181-2016 Annex A.3.4: 1..255 in PTZCmd byte 6) ↔ the camera's ONVIF preset
 * tokens (opaque strings, PTZ Service Spec §5.4). A camera preset gets its number from, in order: a
 * number we already gave it; its token if that is a number 1..255 (many cameras use "1".."255"); its
 * name if it is "N" or "Preset N" (what we write on SetPreset); else the lowest free number.
 */
import { CameraPreset } from './onvif-camera';

export const MIN_PRESET_ID = 1;
export const MAX_PRESET_ID = 255;

export interface PresetEntry {
  id: number;
  name: string;
  token: string;
}

export function isPresetId(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_PRESET_ID && n <= MAX_PRESET_ID;
}

/** The name we give a preset we create: "Preset 3". */
export function presetNameFor(id: number): string {
  return `Preset ${id}`;
}

function numberIn(text: string, pattern: RegExp): number | undefined {
  const m = pattern.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return isPresetId(n) ? n : undefined;
}

export class PresetMap {
  private readonly byId = new Map<number, PresetEntry>();

  tokenFor(id: number): string | undefined {
    return this.byId.get(id)?.token;
  }

  get(id: number): PresetEntry | undefined {
    const e = this.byId.get(id);
    return e ? { ...e } : undefined;
  }

  assign(id: number, token: string, name: string): void {
    for (const [otherId, e] of this.byId) if (e.token === token && otherId !== id) this.byId.delete(otherId);
    this.byId.set(id, { id, token, name });
  }

  remove(id: number): void {
    this.byId.delete(id);
  }

  /** Makes the map match the camera's list (GetPresets) and returns it sorted by number. */
  reconcile(presets: CameraPreset[]): PresetEntry[] {
    const previous = new Map<string, number>();
    for (const e of this.byId.values()) previous.set(e.token, e.id);
    this.byId.clear();
    const pending: CameraPreset[] = [];
    const place = (id: number | undefined, p: CameraPreset): boolean => {
      if (id === undefined || this.byId.has(id)) return false;
      this.byId.set(id, { id, token: p.token, name: p.name || presetNameFor(id) });
      return true;
    };
    for (const p of presets) if (!place(previous.get(p.token), p)) pending.push(p);
    const rest: CameraPreset[] = [];
    for (const p of pending) {
      if (!place(numberIn(p.token, /^(\d{1,3})$/), p) && !place(numberIn(p.name, /^(?:preset\s*)?(\d{1,3})$/i), p)) rest.push(p);
    }
    let next = MIN_PRESET_ID;
    for (const p of rest) {
      while (this.byId.has(next)) next++;
      if (next > MAX_PRESET_ID) break; // more than 255 presets: the rest cannot be named in GB28181
      place(next, p);
    }
    return this.entries();
  }

  entries(): PresetEntry[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id).map((e) => ({ ...e }));
  }
}
