'use strict';
// A small forward proxy for specs: absolute-URI requests are forwarded over
// plain HTTP, CONNECT opens a tunnel. It counts requests per host and keeps
// each forwarded request's headers (Authorization values replaced by
// "<present>", paths without their query), so a spec can see what went
// through it. Its own GET /stats answers that record, POST /reset clears it.
// Run as a program it prints "PORT <port> <pid>" once listening.

const http = require('http');
const net = require('net');

const HOP_BY_HOP = ['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'te', 'upgrade'];

function createProxy() {
  let stats;
  const tunnels = new Set(); // CONNECT sockets leave the server's care: closed by close()
  const reset = () => { stats = { hosts: {}, connects: {}, requests: [] }; };
  reset();

  const record = (kind, host, req, path) => {
    const table = kind === 'CONNECT' ? stats.connects : stats.hosts;
    table[host] = (table[host] || 0) + 1;
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = /authorization/.test(k) ? '<present>' : v;
    stats.requests.push({ method: req.method, host, path, headers });
  };

  const server = http.createServer((req, res) => {
    if (!/^http:\/\//i.test(req.url)) { // origin-form: addressed to the proxy itself
      if (req.url === '/reset' && req.method === 'POST') reset();
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify(req.url === '/stats' || req.url === '/reset' ? stats : { error: 'unknown' }));
    }
    const u = new URL(req.url);
    record('HTTP', u.host, req, u.pathname);
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const up = http.request({
      host: u.hostname, port: u.port || 80, method: req.method, path: `${u.pathname}${u.search}`, headers, agent: false,
    }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    req.pipe(up);
  });

  server.on('connect', (req, socket, head) => {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url);
    record('CONNECT', req.url, req, '');
    if (!m) return socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    const up = net.connect(Number(m[2]), m[1], () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });

  return {
    server,
    stats: () => stats,
    reset,
    listen: (port = 0) => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port))),
    close: () => new Promise((resolve) => {
      for (const s of tunnels) s.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

module.exports = { createProxy };

if (require.main === module) {
  const proxy = createProxy();
  proxy.listen(0).then((port) => process.stdout.write(`PORT ${port} ${process.pid}\n`));
  process.on('SIGTERM', () => process.exit(0));
}
