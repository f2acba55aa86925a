// Reference peer for bench/broadcast.py: the official socket.io 4.8 server,
// websocket only, compression off, with the same two endpoints as ours.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { Server } = require('socket.io');

const argPort = process.argv.indexOf('--port');
const port = argPort > 0 ? Number(process.argv[argPort + 1]) : 8081;
const sample = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'sample_donation.json'), 'utf8'));
const DONATIONS = /^\/api\/v1\/channels\/([a-z0-9-]{1,32})\/donations$/;
let seq = 0;

const httpServer = http.createServer((req, res) => {
  const m = req.method === 'POST' && DONATIONS.exec(req.url);
  if (!m) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"code":"not_found","message":"not found"}}');
    return;
  }
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    const amount = (JSON.parse(body || '{}').amount) || '5.00';
    seq += 1;
    const donation = { ...sample.donation, seq, channel: m[1], amount };
    io.of('/overlay').to(m[1]).emit('donation', { ...sample, seq, donation });
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify(donation));
  });
});

const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  pingInterval: 15000,
  pingTimeout: 20000,
  maxHttpBufferSize: 64 * 1024,
});

io.of('/overlay').on('connection', (socket) => {
  socket.join(String((socket.handshake.auth || {}).channel || ''));
});

httpServer.listen(port, '127.0.0.1', 1024, () => {
  console.log(`node socket.io ${require('socket.io/package.json').version} on ${port}`);
});
process.on('SIGTERM', () => { io.close(); process.exit(0); });
