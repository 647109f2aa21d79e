import type https from 'node:https';
import type { TLSSocket } from 'node:tls';

const noop = (): void => {};

/**
 * Makes node:http's back-pressure pause work on an HTTPS server's connections, so that a client that
 * sends a request while its connection's previous answer has not drained is answered, not reset with
 * the parser error HPE_PAUSED (the client sees read ECONNRESET).
 *
 * Node 20's lib/_http_server.js, parserOnIncoming (`node -e "console.log(process.binding('natives')._http_server)"`):
 *
 *     if (ws.needDrain || state.outgoingData >= socket.writableHighWaterMark) {
 *       socket._paused = true;
 *       ...
 *       socket.pause();
 *
 * and onParserExecuteCommon then calls `socket.parser.pause()` (llhttp_pause): from then on every
 * byte given to the parser fails with HPE_PAUSED, and socketOnError destroys the connection. The
 * server "consumes" the socket (connectionListenerInternal: `parser.consume(socket._handle)`): the C++
 * parser reads the handle's data itself, and socket.pause() only stops the handle's reads
 * (onSocketPause: `this._handle.readStop()`). Over TCP that stops everything: libuv hands one read at
 * a time. A TLS socket's handle is a TLSWrap: readStop() stops its reads from TCP, but the records it
 * has already read are still decrypted and handed on one by one, each ≤ 16 KiB (src/crypto/crypto_tls.cc,
 * TLSWrap::ClearOut: `for (;;) { read = SSL_read(...); ... EmitRead(avail, buf); }`, with no check of
 * reading). So a request whose head and body span several TLS records that arrived together has its
 * head parsed (the pause), and its next record fed to the paused parser: HPE_PAUSED.
 *
 * Who meets it: a pipelining client at will (its own connection only: it need only not read a large
 * answer). A plain sequential client too: when the kernel takes an answer's TLS bytes at once,
 * node:tls reports the write done only from a native setImmediate (TLSWrap::EncOut: "Simulate
 * asynchronous finishing, TLS cannot handle this at the moment"), so an answer (> 16 KiB, which set
 * needDrain) written outside the poll phase is still "not drained" when the next poll phase reads
 * the client's next request, which it sent on reading the answer
 * (test/helpers/tls-paused/repro.mts: 20 of 20 rounds reset before, 0 after).
 *
 * Fix: take the socket out of consumed mode, as node:http itself does when anyone listens for 'data'
 * (generateSocketListenerWrapper: `if (ev === 'data' || ev === 'readable') unconsume(this.parser, this)`).
 * The decrypted data then reaches the parser through the socket's own 'data' events (socketOnData),
 * and socket.pause() stops those: what the TLSWrap still emits waits in the socket's readable buffer
 * (bounded: past its high-water mark net's onStreamRead stops reading) until the answer drains and
 * node:http resumes the socket and the parser together (socketOnDrain). The listener is removed at
 * once: unconsume() is not undone, node:http's own 'data' listener (socketOnData) remains.
 *
 * Cost: the decrypted bytes become a Buffer and a 'data' event per ≤ 16 KiB record instead of going
 * straight to the C++ parser; a bare HTTPS server spent 0-10% more CPU per request (within the noise
 * for 100 KiB bodies): `node --import tsx test/helpers/tls-paused/cost.mts`. Plain HTTP keeps the
 * consumed socket: there readStop() does stop the parser's input.
 *
 * Our listener runs after node:http's own 'secureConnection' listener (added in https.Server's
 * constructor), so the parser is in place; a socket without one (closed at accept) is left alone.
 */
export function keepPausedTlsConnectionsPaused(server: https.Server): void {
  server.on('secureConnection', (socket: TLSSocket & { parser?: unknown }) => {
    if (!socket.parser) return;
    socket.on('data', noop);
    socket.removeListener('data', noop);
  });
}
