/**
 * 5,000 recordings through the headless runner (issue #7): the Gateway registers and answers
 * Catalog while its archive is still being indexed in the background, RecordInfo answers from the
 * index, and a restart (index cache in record_cache_dir) indexes them again in a fraction of the time.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Gateway } from '../../lib/gateway/gateway';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { buildManyFiles, tempDir } from '../record/record-fixtures';
import { CH1, DEVICE_ID, gatewayConfig, sourceConfig } from './recordings-harness';

const COUNT = 5000;
const DISTINCT = 100;

describe('5,000 recordings through the headless runner (e2e)', function () {
  this.timeout(120_000);
  let root: string;
  let platform: PlatformEmulator;
  const gateways: Gateway[] = [];

  before(async () => {
    root = await tempDir('e2e-index');
    await buildManyFiles(root, COUNT); // copies of one 1 s segment: 2025-06-14 00:00:00, 00:00:02, ...
    // Every 50th file made distinct (a few trailing bytes ffprobe ignores): 100 real probes on a cold
    // start, as an archive of different recordings needs; the other copies are probed once.
    const dayDir = path.join(root, 'archive', '2025-06-14');
    const names = (await fsp.readdir(dayDir)).sort();
    for (let i = 0; i < names.length; i += COUNT / DISTINCT) await fsp.appendFile(path.join(dayDir, names[i]), Buffer.from(`distinct-${i}`));
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, autoQuery: false });
    await platform.start();
  });

  after(async () => {
    for (const g of gateways) await g.stop();
    await platform.stop();
    await fsp.rm(root, { recursive: true, force: true });
  });

  /** Starts a gateway; returns how long until registered, Catalog answered, and the index complete. */
  const run = async (): Promise<{ gateway: Gateway; registeredMs: number; catalogMs: number; indexMs: number; indexedBeforeCatalog: boolean; probed: number; fromCache: number }> => {
    const cacheDir = path.join(root, 'cache');
    const gateway = new Gateway(gatewayConfig(platform.port, [sourceConfig(CH1, 'rtsp://127.0.0.1:9/unused', [path.join(root, 'archive')])], { recordCacheDir: cacheDir }), { probeOnStart: false });
    gateways.push(gateway);
    const registered = platform.waitForRegistration(DEVICE_ID, 15_000);
    const t0 = Date.now();
    await gateway.start();
    const archive = gateway.recordings?.channel(CH1)?.archive;
    assert.ok(archive);
    let indexedAt = 0;
    const indexed = archive.whenIndexed().then((s) => { indexedAt = Date.now(); return s; });
    await registered;
    const registeredMs = Date.now() - t0;
    const catalog = await platform.queryCatalog(DEVICE_ID, 10_000);
    const catalogMs = Date.now() - t0;
    assert.equal(catalog.sumNum, 1);
    const indexedBeforeCatalog = indexedAt !== 0;
    const stats = await indexed;
    assert.equal(stats.segments, COUNT);
    return { gateway, registeredMs, catalogMs, indexMs: indexedAt - t0, indexedBeforeCatalog, probed: stats.probed, fromCache: stats.fromCache };
  };

  it('registers and answers Catalog while indexing in the background; RecordInfo answers from the index; a restart is much faster', async () => {
    const cold = await run();
    assert.equal(cold.indexedBeforeCatalog, false, `Catalog answered at ${cold.catalogMs} ms, index complete at ${cold.indexMs} ms`);
    assert.ok(cold.catalogMs < cold.indexMs, 'registration and Catalog did not wait for the index');
    assert.ok(fs.existsSync(path.join(root, 'cache', `record-index-${CH1}.json`)), 'index cache written to record_cache_dir');
    const ten = await platform.queryRecordInfo(DEVICE_ID, CH1, '2025-06-14T00:00:00', '2025-06-14T00:09:59');
    assert.equal(ten.sumNum, 300, 'ten minutes hold 300 of the 5,000 files');
    await cold.gateway.stop();

    const warm = await run();
    assert.equal(warm.probed, 0, 'no ffprobe after a restart');
    assert.equal(warm.fromCache, COUNT);
    assert.ok(cold.probed >= DISTINCT, `cold start probed ${cold.probed} files`);
    assert.ok(warm.indexMs < cold.indexMs / 3, `restart indexed in ${warm.indexMs} ms vs ${cold.indexMs} ms cold`);
    console.log(`      5,000 files through the runner: cold index ${cold.indexMs} ms (${cold.probed} ffprobe runs; Catalog answered at ${cold.catalogMs} ms), restart ${warm.indexMs} ms`);
  });
});
