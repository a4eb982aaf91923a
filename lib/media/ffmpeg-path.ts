/**
 * Finds the ffmpeg and ffprobe binaries, in this order:
 *   1. the path given in the configuration,
 *   2. the FFMPEG_PATH / FFPROBE_PATH environment variable,
 *   3. `ffmpeg` / `ffprobe` on PATH,
 *   4. the binary shipped inside the `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe`
 *      npm packages (so a machine with no system ffmpeg still works, x64 and arm64 alike).
 * The first candidate that runs `-version` wins; its version is reported. When none runs the
 * error lists every place looked in.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GatewayError } from '../errors';
import { Logger, silentLogger } from '../logger';

export type FfTool = 'ffmpeg' | 'ffprobe';

export type FfSource = 'config' | 'env' | 'path' | 'npm-package';

export interface FfBinary {
  tool: FfTool;
  path: string;
  source: FfSource;
  /** e.g. "5.1.6-0+deb12u1" or "N-47683-g0e8eb07980-static". */
  version: string;
  /** [major, minor] when the version is a release number, else undefined (git builds). */
  release?: [number, number];
}

export class FfmpegNotFoundError extends GatewayError {
  constructor(tool: FfTool, readonly tried: string[]) {
    super('FFMPEG_NOT_FOUND', `${tool} not found; looked in: ${tried.join('; ')}. Install ffmpeg (apt-get install ffmpeg), set ${tool === 'ffmpeg' ? 'FFMPEG_PATH' : 'FFPROBE_PATH'}, or reinstall the package so @ffmpeg-installer is present.`, { tool });
  }
}

interface Candidate {
  source: FfSource;
  path: string;
  label: string;
}

function npmPackageBinary(tool: FfTool): string | undefined {
  const pkg = tool === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe';
  try {
    // The installer packages resolve the platform-specific sub-package (linux-x64, linux-arm64, ...).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(pkg) as { path?: string };
    return mod.path;
  } catch {
    return undefined;
  }
}

function onPath(tool: FfTool): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, tool);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs `<bin> -version` and returns the version word, or undefined when it does not run. */
export function readFfVersion(binary: string): string | undefined {
  try {
    const out = execFileSync(binary, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /^ff\w+ version (\S+)/m.exec(out);
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

function parseRelease(version: string): [number, number] | undefined {
  const m = /^n?(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export interface LocateOptions {
  configuredPath?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Skip the PATH step (tests use this to prove the npm fallback). */
  skipPath?: boolean;
  /** Where the npm-shipped binary is; defaults to asking the installer package. */
  npmPackagePath?: (tool: FfTool) => string | undefined;
}

const cache = new Map<string, FfBinary>();

export function locateFfTool(tool: FfTool, options: LocateOptions = {}): FfBinary {
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const envVar = tool === 'ffmpeg' ? 'FFMPEG_PATH' : 'FFPROBE_PATH';
  const candidates: Candidate[] = [];
  const tried: string[] = [];
  if (options.configuredPath) candidates.push({ source: 'config', path: options.configuredPath, label: `configured path ${options.configuredPath}` });
  else tried.push('configured path (not set)');
  if (env[envVar]) candidates.push({ source: 'env', path: env[envVar] as string, label: `${envVar}=${env[envVar]}` });
  else tried.push(`${envVar} (not set)`);
  if (!options.skipPath) {
    const p = onPath(tool);
    if (p) candidates.push({ source: 'path', path: p, label: `PATH (${p})` });
    else tried.push(`PATH (no ${tool})`);
  }
  const pkg = (options.npmPackagePath ?? npmPackageBinary)(tool);
  if (pkg) candidates.push({ source: 'npm-package', path: pkg, label: `npm package (${pkg})` });
  else tried.push(`npm package @${tool}-installer (not installed for ${process.platform}-${process.arch})`);

  for (const c of candidates) {
    const key = `${tool}:${c.path}`;
    const cached = cache.get(key);
    if (cached) return { ...cached, source: c.source };
    const version = readFfVersion(c.path);
    if (version) {
      const found: FfBinary = { tool, path: c.path, source: c.source, version, release: parseRelease(version) };
      cache.set(key, found);
      logger.info(`using ${tool} ${version} from ${c.label}`);
      return found;
    }
    tried.push(`${c.label} (does not run)`);
  }
  throw new FfmpegNotFoundError(tool, tried);
}

/** ffmpeg ≥ 5 renamed the RTSP socket timeout option: `-stimeout` before, `-timeout` since. */
export function rtspTimeoutOption(binary: FfBinary): '-timeout' | '-stimeout' {
  if (binary.release && binary.release[0] >= 5) return '-timeout';
  return '-stimeout';
}

/** Forgets the binaries found so far, so the next lookup runs (and logs) again; for a changed PATH and for tests. */
export function forgetLocatedFfTools(): void {
  cache.clear();
}
