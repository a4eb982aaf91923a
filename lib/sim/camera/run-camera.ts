/**
 * Starts a simulated camera by hand and prints its URLs:
 *   node build/lib/sim/camera/run-camera.js [port] [--user name --password secret] [--always-on] [--ffmpeg path] [--verbose]
 * Stops on Ctrl-C.
 */
import { consoleLogger } from '../../logger';
import { SimulatedCamera, SimulatedCameraOptions } from './simulated-camera';

function parseArgs(argv: string[]): SimulatedCameraOptions & { verbose: boolean } {
  const out: SimulatedCameraOptions & { verbose: boolean } = { verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--user') out.username = next();
    else if (a === '--password') out.password = next();
    else if (a === '--host') out.host = next();
    else if (a === '--ffmpeg') out.ffmpegPath = next();
    else if (a === '--always-on') out.alwaysOn = true;
    else if (a === '--verbose') out.verbose = true;
    else if (/^\d+$/.test(a)) out.port = Number(a);
    else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const camera = new SimulatedCamera({ ...options, port: options.port ?? 8554, logger: consoleLogger(options.verbose ? 'debug' : 'info') });
  await camera.start();
  for (const s of ['/h264', '/h265', '/h264-pcma', '/h264-aac', '/h265-pcma']) console.log(camera.url(s, true));
  const shutdown = (): void => {
    camera.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
