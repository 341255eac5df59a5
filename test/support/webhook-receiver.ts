// A real HTTP server that receives webhooks, for the webhook suites: it keeps
// every request's headers and raw body, and answers each with the next status
// a test queued (200 once the queue is empty).
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly statuses: number[] = [];
  private server: Server | undefined;
  url = "";
  /** Where a 3xx answer points (a sender must not follow it). */
  redirectTo: string | undefined;
  /** How long each answer takes (a slow receiver keeps attempts in flight). */
  delayMs = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const status = this.statuses.shift() ?? 200;
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status });
        const answer = () => res.writeHead(status, status >= 300 && status < 400 && this.redirectTo ? { location: this.redirectTo } : {}).end();
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  /** The next requests are answered with these statuses, in order. */
  answerWith(...statuses: number[]): void {
    this.statuses.push(...statuses);
  }

  /** The parsed bodies received so far of this event type. */
  ofType(type: string): { type: string; timestamp: string; data: Record<string, unknown> }[] {
    return this.received.map((r) => JSON.parse(r.body) as { type: string; timestamp: string; data: Record<string, unknown> }).filter((e) => e.type === type);
  }

  /** Waits until `predicate` holds for what has arrived (polling), or fails after `timeoutMs`. */
  async waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`webhooks did not arrive in time; got ${this.received.map((r) => r.body).join("\n")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
