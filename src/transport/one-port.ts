// One TCP port for HTTP/2 cleartext (gRPC, Connect) and HTTP/1.1 (Connect,
// gRPC-Web, curl, browsers). Node's http2 server accepts HTTP/1.1 only over
// TLS, so each new connection's first bytes pick the server: the HTTP/2
// preface starts with "PRI", which no HTTP/1.1 request line does.
import http from "node:http";
import http2, { type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { connectNodeAdapter } from "@connectrpc/connect-node";
import net, { type AddressInfo, type Socket } from "node:net";

// The request and response types connect-node's handler takes (it does not export them by name).
type ConnectHandler = ReturnType<typeof connectNodeAdapter>;
export type NodeRequest = Parameters<ConnectHandler>[0];
export type NodeResponse = Parameters<ConnectHandler>[1];
export type RequestHandler = (req: NodeRequest, res: NodeResponse) => void;
/**
 * Serves the HTTP/2 streams it takes before node:http2's compatibility layer
 * wraps them; the request handler gets the rest. The fast path of the one hot
 * RPC (handlers/check-grpc.ts).
 */
export interface StreamHandler {
  takes(headers: IncomingHttpHeaders): boolean;
  serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void;
}

/** Limits that keep slow or greedy clients from holding the port. */
export interface ConnectionLimits {
  /** A connection that sends nothing, or an HTTP/1.1 request whose headers are not complete, is dropped after this long. */
  headersTimeoutMs: number;
  /**
   * A request must be fully received within this long: HTTP/1.1 gets 408 and
   * the connection closes; an HTTP/2 stream is reset (RST_STREAM CANCEL). Only
   * receiving is bounded: a response may stream on (a health Watch does).
   */
  requestTimeoutMs: number;
  /** An HTTP/2 connection with no activity is closed after this long. */
  idleTimeoutMs: number;
  /** Concurrent streams per HTTP/2 connection. */
  maxConcurrentStreams: number;
  /** Open connections; more are refused. */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  maxConcurrentStreams: 256,
  maxConnections: 10_000,
};
// What one HTTP/2 connection can make the server hold, besides its streams
// count (maxConcurrentStreams):
// - headers: 16 KiB per stream, the same bound node:http puts on HTTP/1.1
//   (Node's HTTP/2 default is 64 KiB, and it is not announced to clients);
// - request data not yet read by a handler: one stream window each (Node
//   reopens a stream's window only as its reader consumes). 65,535 is the
//   protocol's default, written out so the bound is ours: with 256 streams,
//   at most 16 MiB unread per connection. Keyward's requests are small (a
//   check is under 1 KiB; the largest accepted body is 1 MiB), so a smaller
//   window would slow big admin bodies over long links for little gain;
// - request data read by a handler: at most READ_MAX_BYTES per stream, and
//   only until requestTimeoutMs, after which the stream is reset and freed;
// - nghttp2's own buffers: Node's maxSessionMemory (10 MB by default) refuses
//   new streams beyond it.
const MAX_HEADER_LIST_BYTES = 16 * 1024;
const STREAM_WINDOW_BYTES = 65_535;
// How long draining waits after the last request arrived before closing connections.
const QUIET_MS = 100;

export class OnePortServer {
  private readonly tcp: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<Http2Session>();
  private openStreams = 0;
  private inFlight = 0;
  private lastRequestAt = 0;
  private draining = false;

  constructor(
    private handler: RequestHandler,
    private readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
    /** Takes the streams of the hot RPC; undefined leaves every stream to `handler` (tests flip it to compare the two). */
    public streamHandler?: StreamHandler,
  ) {
    const counted: RequestHandler = (req, res) => {
      const handler = this.handler;
      this.inFlight++;
      this.lastRequestAt = performance.now();
      // While draining, HTTP/1.1 connections close after their response.
      if (this.draining && req.httpVersionMajor === 1) res.setHeader("connection", "close");
      res.once("close", () => this.inFlight--);
      try {
        handler(req, res);
      } catch {
        // Whatever a malformed request trips over must not take the process down.
        if (!res.headersSent) {
          res.writeHead(400, { "content-type": "application/json" });
          res.end(JSON.stringify({ code: "invalid_argument", message: "malformed request" }));
        } else res.destroy();
      }
    };
    this.h1 = http.createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      },
      (req, res) => counted(req, res),
    );
    // node:http enforces headersTimeout/requestTimeout from a timer it starts
    // on 'listening'; this server never listens itself (we hand it sockets).
    this.h1.emit("listening");
    this.h2 = http2.createServer(
      {
        settings: {
          maxConcurrentStreams: limits.maxConcurrentStreams,
          initialWindowSize: STREAM_WINDOW_BYTES,
          maxHeaderListSize: MAX_HEADER_LIST_BYTES,
        },
      },
      (req, res) => counted(req, res as NodeResponse),
    );
    this.h2.on("stream", (stream: ServerHttp2Stream) => this.boundReceiving(stream));
    this.offerStreams();
    this.h2.on("session", (session) => {
      this.sessions.add(session);
      session.setTimeout(limits.idleTimeoutMs, () => session.close());
      session.once("close", () => this.sessions.delete(session));
    });
    // Small RPC frames must leave at once: Nagle's algorithm plus delayed ACKs
    // would add tens of milliseconds (node:http sets this itself; we accept the
    // sockets, so we must).
    this.tcp = net.createServer({ noDelay: true }, (socket) => this.route(socket));
    this.tcp.maxConnections = limits.maxConnections;
  }

  /**
   * Offers each new HTTP/2 stream to the stream handler before anyone else sees
   * it. node:http2 installs its compatibility layer as a 'stream' listener, and
   * every listener of an event runs, so a stream the handler takes must never
   * be emitted: the server's emit is wrapped for that one event.
   */
  private offerStreams(): void {
    const emit = this.h2.emit;
    const taken = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean => {
      const streamHandler = this.streamHandler;
      if (!streamHandler?.takes(headers)) return false;
      this.lastRequestAt = performance.now();
      this.inFlight++;
      stream.once("close", () => this.inFlight--);
      this.boundReceiving(stream);
      streamHandler.serve(stream, headers);
      return true;
    };
    this.h2.emit = function (this: http2.Http2Server, event: string | symbol, ...args: unknown[]): boolean {
      if (event === "stream" && taken(args[0] as ServerHttp2Stream, args[1] as IncomingHttpHeaders)) return true;
      return emit.call(this, event, ...args);
    } as typeof emit;
  }

  /**
   * HTTP/2 has no request timeout of its own: a client that sends headers and
   * part of a body, and never ends it, would hold the stream (and what the
   * handler buffered) for as long as the connection lives.
   */
  private boundReceiving(stream: ServerHttp2Stream): void {
    this.openStreams++;
    const timer = setTimeout(() => {
      // remoteClose: the client has sent END_STREAM, so the request is whole,
      // whether or not the handler has read it; the answer may take its time.
      if (!stream.destroyed && !stream.state.remoteClose) stream.close(http2.constants.NGHTTP2_CANCEL);
    }, this.limits.requestTimeoutMs);
    timer.unref();
    stream.once("close", () => {
      clearTimeout(timer);
      this.openStreams--;
    });
  }

  /** What the port holds now: TCP connections, HTTP/2 sessions, their open streams, and requests not yet answered. */
  stats(): { connections: number; sessions: number; streams: number; requests: number } {
    return { connections: this.sockets.size, sessions: this.sessions.size, streams: this.openStreams, requests: this.inFlight };
  }

  private route(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setTimeout(this.limits.headersTimeoutMs, () => socket.destroy());
    const sniff = () => {
      const head: Buffer | null = socket.read(3);
      if (head === null) {
        socket.once("readable", sniff);
        return;
      }
      socket.setTimeout(0);
      socket.unshift(head);
      (head.toString("latin1") === "PRI" ? this.h2 : this.h1).emit("connection", socket);
    };
    socket.once("readable", sniff);
  }

  /**
   * Serves later requests with `handler`: main.ts binds the port with a
   * "starting" handler before the store is opened, then installs Keyward's.
   */
  setHandler(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** Where the server listens, once it does. */
  address(): AddressInfo | null {
    return this.tcp.address() as AddressInfo | null;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.tcp.once("error", reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off("error", reject);
        resolve(this.tcp.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections and lets in-flight requests finish (HTTP/2
   * clients get GOAWAY, HTTP/1.1 responses say `connection: close`). Once no
   * request is running and none has arrived for QUIET_MS (requests already
   * sent on open connections may still be in socket buffers when the signal
   * lands), or no connection is left, or `graceMs` has passed, closes
   * whatever remains.
   */
  async close(graceMs: number): Promise<void> {
    this.draining = true;
    const stopped = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const session of this.sessions) session.close();
    const deadline = performance.now() + graceMs;
    while (performance.now() < deadline) {
      // With no connection left, nothing can still arrive: no need to wait for quiet.
      if (this.inFlight === 0 && (this.sockets.size === 0 || performance.now() - this.lastRequestAt >= QUIET_MS)) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    await stopped;
  }
}
