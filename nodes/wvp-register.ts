/**
 * wvp-register: configuration node for one platform connection (WVP-GB28181-pro or another
 * GB28181 platform). Holds the settings only; the gb28181-device node that uses it owns the SIP
 * socket. The password is a Node-RED credential, or comes from an environment variable named in
 * the node (so flows can be shared without secrets).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { RegisterNodeApi } from '../lib/node-glue/node-contracts';
import { readRegisterSettings } from '../lib/node-glue/node-settings';

interface WvpRegisterCredentials {
  password?: string;
}

type WvpRegisterNode = Node<WvpRegisterCredentials> & RegisterNodeApi;

type WvpRegisterDef = NodeDef & Record<string, unknown>;

export = function register(RED: NodeAPI): void {
  function WvpRegister(this: WvpRegisterNode, def: WvpRegisterDef): void {
    RED.nodes.createNode(this, def);
    const props: Record<string, unknown> = { ...def };
    this.settings = () => readRegisterSettings(props, this.credentials?.password);
    this.label = () => {
      const s = this.settings();
      return `${s.platform.id}@${s.platform.host}:${s.platform.port}`;
    };
  }
  RED.nodes.registerType<WvpRegisterNode, WvpRegisterDef, object, WvpRegisterCredentials>('wvp-register', WvpRegister, { credentials: { password: { type: 'password' } } });
};
