/**
 * `gb28181-gateway`: the headless runner. Reads a config file, validates it, then runs the same
 * gateway the Node-RED nodes run (lib/gateway), until SIGINT/SIGTERM.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors';
import { consoleLogger } from '../logger';
import { LoadedConfig, parseGatewayConfigText, toGatewayShape } from '../config/config-loader';

export const USAGE = `Usage: gb28181-gateway --config <file.json> [--check] [--print-config] [--log-level debug|info|warn|error]

  --config <file>    gateway configuration (the project's shape, or a seed/legacy file; see README)
  --check            validate the configuration and exit (0 = valid)
  --print-config     print the equivalent configuration in the project's own shape (passwords masked) and exit
  --log-level <l>    override the file's log level
  --help             this text`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface CliResult {
  /** Exit code when the command finished by itself; undefined while the gateway runs. */
  exitCode?: number;
  loaded?: LoadedConfig;
}

export type GatewayStarter = (loaded: LoadedConfig, io: CliIo) => Promise<number>;

export async function runCli(argv: string[], io: CliIo, start?: GatewayStarter): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        check: { type: 'boolean' },
        'print-config': { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  if (!args.config) {
    io.err(`--config <file.json> is required\n${USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = fs.readFileSync(args.config, 'utf8');
  } catch (e) {
    io.err(`cannot read ${args.config}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return 2;
  }
  let loaded: LoadedConfig;
  try {
    loaded = parseGatewayConfigText(text);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`${args.config}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const level = args['log-level'];
  if (level !== undefined) {
    if (!['debug', 'info', 'warn', 'error'].includes(level)) {
      io.err(`--log-level must be debug, info, warn or error`);
      return 2;
    }
    loaded.config.logLevel = level as LoadedConfig['config']['logLevel'];
  }
  if (loaded.ignoredKeys.length) {
    io.err(`warning: ${args.config} is in the ${loaded.shape} shape; these keys mean nothing to this gateway and are ignored: ${loaded.ignoredKeys.join(', ')}`);
  }
  if (args['print-config']) {
    io.out(JSON.stringify(toGatewayShape(loaded.config), null, 2));
    return 0;
  }
  if (args.check || !start) {
    const c = loaded.config;
    io.out(`configuration valid (${loaded.shape} shape): device ${c.device.id}, platform ${c.platform.id}@${c.platform.host}:${c.platform.port}/${c.platform.transport}, ${c.sources.length} camera(s)`);
    return 0;
  }
  return start(loaded, io);
}

/** Entry point used by bin/gb28181-gateway.js. */
export function main(start?: GatewayStarter): void {
  const io: CliIo = { out: (t) => process.stdout.write(t + '\n'), err: (t) => process.stderr.write(t + '\n') };
  runCli(process.argv.slice(2), io, start).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (e: unknown) => {
      consoleLogger('error').error(`gateway stopped: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
