/** Simulated camera + OnvifCamera + PtzController on loopback, with captured log lines; closed in afterEach. */
import { LogContext, Logger } from '../../lib/logger';
import { OnvifCamera, OnvifCameraOptions } from '../../lib/onvif/onvif-camera';
import { PtzController, PtzControllerOptions } from '../../lib/onvif/ptz-controller';
import { SimulatedOnvifCamera, SimulatedOnvifCameraOptions } from '../../lib/sim/onvif-camera';

export interface LogLine {
  level: string;
  message: string;
  context?: LogContext;
}

export function captureLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (message: string, context?: LogContext) => {
    lines.push({ level, message, context });
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface Rig {
  sim: SimulatedOnvifCamera;
  camera: OnvifCamera;
  ptz: PtzController;
  logs: LogLine[];
  close(): Promise<void>;
}

export async function startRig(
  simOptions: SimulatedOnvifCameraOptions = {},
  cameraOptions: Partial<OnvifCameraOptions> = {},
  ptzOptions: PtzControllerOptions = {},
): Promise<Rig> {
  const sim = new SimulatedOnvifCamera(simOptions);
  await sim.start();
  const logs: LogLine[] = [];
  const logger = captureLogger(logs);
  const camera = new OnvifCamera({
    name: 'cam-1',
    hostname: '127.0.0.1',
    port: sim.port,
    username: 'admin',
    password: 'secret',
    callTimeoutMs: 800,
    logger,
    ...cameraOptions,
  });
  const ptz = new PtzController(camera, { logger, ...ptzOptions });
  return {
    sim,
    camera,
    ptz,
    logs,
    async close() {
      await ptz.close().catch(() => undefined);
      await sim.stop();
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `check` holds, up to `ms`; returns whether it did. */
export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await delay(10);
  }
  return check();
}
