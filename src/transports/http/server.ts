import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Listener } from '../../config/listen';
import { handleXmlRpc } from '../xmlrpc/handler';
import { handleApi } from './api';
import { mediaType, type HttpDeps } from './common';

/**
 * One HTTP listener: each request goes to the handler whose path is the longest prefix of its
 * own (`/api` → the JSON API, `/rpc` → XML-RPC; `/` alone for XML-RPC on a port of its own).
 * With `tls`, it speaks HTTPS with that key and certificate.
 */
export function createHttpServer(listener: Listener, deps: HttpDeps, tls?: { key: string; cert: string }): Server {
  const routes = [...listener.handlers.entries()].sort(([a], [b]) => b.length - a.length).map(([prefix, handler]) => [prefix, handler, `${prefix}/`] as const);
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const route = routes.find(([prefix, , under]) => prefix === '/' || path === prefix || path.startsWith(under));
    if (!route) {
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ status: 'error', code: 'not_found', message: `Nothing is served at ${path}` }));
      return;
    }
    const [prefix, handler] = route;
    if (handler === 'xmlrpc') {
      const type = mediaType(req.headers['content-type']);
      if (req.method === 'POST' && type !== 'text/xml' && type !== 'application/xml') {
        res
          .writeHead(415, { 'Content-Type': 'text/plain' })
          .end(type === '' ? 'XML-RPC calls carry text/xml (send Content-Type: text/xml)\n' : `XML-RPC calls carry text/xml, not ${type}\n`);
        return;
      }
      return void handleXmlRpc(req, res, deps);
    }
    const rest = prefix === '/' ? path.slice(1) : path.slice(prefix.length).replace(/^\//, '');
    void handleApi(req, res, rest, deps);
  };
  // An HTTPS server answers requests and upgrades as an HTTP one does.
  return tls ? createHttpsServer(tls, serve) : createServer(serve);
}
