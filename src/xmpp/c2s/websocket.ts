/**
 * XMPP over WebSocket (RFC 7395) on an HTTP listener's path: subprotocol `xmpp`, one element per
 * text frame, the same stream state machine as TCP without STARTTLS (an https listener's
 * streams count as secure).
 */
import type * as http from 'node:http';
import type * as net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_MAX_STANZA_SIZE, type C2sListener } from '../../config/listen';
import type { StreamError } from '../api';
import { C2sConnection, peerAddress, type C2sEnv, type Wire } from './connection';

export interface WebSocketEndpoint {
  /** Closes every WebSocket stream with `error` and stops taking upgrades. */
  close(error?: StreamError): void;
  count(): number;
}

/** A WebSocket as the stream writes to it: each write is one frame. */
class WsWire implements Wire {
  constructor(private readonly ws: WebSocket) {}
  write(data: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(data);
  }
  get writableLength(): number {
    return this.ws.bufferedAmount;
  }
  end(): void {
    this.ws.close(1000);
  }
  destroy(): void {
    this.ws.terminate();
  }
}

export function attachWebSocket(server: http.Server, path: string, env: C2sEnv, options: { maxStanzaSize?: number } = {}): WebSocketEndpoint {
  const maxStanzaSize = options.maxStanzaSize ?? DEFAULT_MAX_STANZA_SIZE;
  const listener: C2sListener = { port: 0, ip: '', starttls: false, starttlsRequired: false, tls: false, maxStanzaSize };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxStanzaSize + 1024,
    handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
  });
  const streams = new Set<C2sConnection>();

  const onUpgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== path) return;
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes('xmpp')) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nThis endpoint speaks the xmpp WebSocket subprotocol (RFC 7395)\n',
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const secure = (socket as { encrypted?: boolean }).encrypted === true;
      const ip = peerAddress(socket.remoteAddress);
      const conn = new C2sConnection(new WsWire(ws), env, listener, { ip, port: socket.remotePort ?? 0, kind: 'websocket', framed: true, secure });
      streams.add(conn);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return conn.close({ condition: 'unsupported-encoding', text: 'frames must be text' });
        conn.receive((data as Buffer).toString('utf8'));
      });
      ws.on('close', () => {
        streams.delete(conn);
        conn.transportClosed();
      });
      ws.on('error', (err) => env.logger.debug?.(`WebSocket client ${ip}: ${err.message}`));
    });
  };
  server.on('upgrade', onUpgrade);

  return {
    close(error) {
      server.removeListener('upgrade', onUpgrade);
      for (const conn of [...streams]) conn.close(error);
      wss.close();
    },
    count: () => streams.size,
  };
}
