/**
 * What `gb28181-gateway --config` does after validation: run a Gateway until SIGINT/SIGTERM,
 * logging registration and camera state, then unregister and exit.
 */
import { LoadedConfig } from '../config/config-loader';
import { CliIo } from '../cli/gateway-cli';
import { consoleLogger } from '../logger';
import { Gateway } from './gateway';

export async function startGatewayFromConfig(loaded: LoadedConfig, _io: CliIo): Promise<number> {
  const logger = consoleLogger(loaded.config.logLevel);
  const gateway = new Gateway(loaded.config, { logger });
  gateway.on('registered', () => logger.info(`registered with ${loaded.config.platform.id}@${loaded.config.platform.host}:${loaded.config.platform.port}`));
  gateway.on('failed', (reason: string) => logger.warn(`registration failed: ${reason}`));
  await gateway.start();
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: unregistering and stopping`);
      gateway.stop().then(() => resolve(0), () => resolve(1));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
