/**
 * health-monitor: collects what the other GB28181 nodes send (wire their outputs in), sends a
 * summary every N seconds (output 1), and asks stalled cameras to reconnect (output 2: wire it back
 * to the rtsp-source nodes: the reconnection is part of the flow, where the user sees it).
 * Optionally serves Prometheus text metrics at /gb28181/metrics/<node id> on the admin HTTP server.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { HealthLedger } from '../lib/node-glue/health-ledger';
import { localText } from '../lib/node-glue/localised-text';

type HealthDef = NodeDef & Record<string, unknown>;

/** Live monitors by node id, for the one admin route all of them share. */
const ledgers = new Map<string, HealthLedger>();
/** Admin apps that already have the metrics route (one per runtime). */
const routed = new WeakSet<object>();

export = function register(RED: NodeAPI): void {
  function HealthMonitor(this: Node, def: HealthDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED calls the constructor with `this` = the node; the handlers below close over it.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const tr = (key: string, fallback: string, vars?: Record<string, string | number>) => localText(RED._, `health-monitor.status.${key}`, fallback, vars);
    const intervalS = Number(def.interval ?? 10);
    const stallS = Number(def.stallAfter ?? 10);
    const cooldownS = Number(def.reconnectEvery ?? 30);
    const problems: string[] = [];
    if (!Number.isFinite(intervalS) || intervalS < 1 || intervalS > 86400) problems.push(`summary interval must be 1-86400 s (got ${String(def.interval)})`);
    if (!Number.isFinite(stallS) || stallS < 1) problems.push(`stall time must be at least 1 s (got ${String(def.stallAfter)})`);
    if (!Number.isFinite(cooldownS) || cooldownS < 1) problems.push(`reconnect period must be at least 1 s (got ${String(def.reconnectEvery)})`);
    if (problems.length) {
      node.status({ fill: 'red', shape: 'ring', text: problems[0] });
      node.error(`invalid configuration: ${problems.join('; ')}`);
      return;
    }
    const ledger = new HealthLedger({ stallMs: stallS * 1000, reconnectCooldownMs: cooldownS * 1000 });
    const metrics = def.metrics === true || def.metrics === 'true';
    if (metrics) ledgers.set(node.id, ledger);

    const tick = () => {
      const summary = ledger.summary();
      const reconnects = def.autoReconnect === false || def.autoReconnect === 'false' ? [] : ledger.checkStalls();
      node.send([
        { topic: 'health', payload: summary },
        reconnects.length ? reconnects.map((r) => ({ topic: 'reconnect', payload: r })) : null,
      ]);
      const reg = summary.platforms;
      const registered = reg.filter((p) => p.state === 'registered').length;
      const online = summary.channels.filter((c) => c.online).length;
      const bad = reg.length > registered || summary.channels.some((c) => c.stalled);
      node.status({
        fill: bad ? 'yellow' : 'green',
        shape: 'dot',
        text: tr('summary', '__reg__/__regs__ registered · __on__/__chs__ ch · __live__ live', { reg: registered, regs: reg.length, on: online, chs: summary.channels.length, live: summary.sessions.length }),
      });
    };
    const timer = setInterval(tick, intervalS * 1000);
    node.status({ fill: 'grey', shape: 'ring', text: tr('waiting', 'waiting for events') });

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      if (msg.topic === 'summary' || msg.topic === 'tick') {
        tick();
        return done();
      }
      // Unknown messages (debug leftovers, control events) are not errors: the node takes what it knows.
      ledger.ingest(msg.topic, msg.payload);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(timer);
      ledgers.delete(node.id);
      done();
    });
  }
  RED.nodes.registerType('health-monitor', HealthMonitor);

  if (!routed.has(RED.httpAdmin)) {
    routed.add(RED.httpAdmin);
    RED.httpAdmin.get('/gb28181/metrics/:id', RED.auth.needsPermission('gb28181.read'), (req: Request, res: Response) => {
      const ledger = ledgers.get(String(req.params.id));
      if (!ledger) {
        res.status(404).type('text/plain').send('no health-monitor with metrics enabled has this id\n');
        return;
      }
      res.type('text/plain; version=0.0.4').send(ledger.prometheus());
    });
  }
};
