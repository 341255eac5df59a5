// One invocation's connection to Keyward and its output: the URL and admin
// key (never taken as a plain argument, which ps and shell history would keep),
// Connect clients over HTTP/1.1, and whether to print JSON or tables.
import { readFileSync } from "node:fs";
import { toJson, type DescMessage, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { CliError, EXIT, UsageError } from "./exit-codes.js";
import type { Values } from "./command.js";

export const DEFAULT_URL = "http://127.0.0.1:8080";

export class Session {
  private transport: Transport | undefined;
  readonly json: boolean;

  constructor(
    private readonly values: Values,
    private readonly env: NodeJS.ProcessEnv,
    private readonly stdout: NodeJS.WritableStream,
  ) {
    this.json = values.json === true;
  }

  async client<S extends DescService>(service: S): Promise<Client<S>> {
    this.transport ??= await this.connect();
    return createClient(service, this.transport);
  }

  private async connect(): Promise<Transport> {
    const url = (typeof this.values.url === "string" ? this.values.url : undefined) ?? this.env.KEYWARD_URL ?? DEFAULT_URL;
    // A path is allowed: a proxy may serve Keyward under one.
    if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(url)) throw new UsageError(`--url: "${url}" is not an http:// or https:// address such as ${DEFAULT_URL}`);
    const key = this.adminKey();
    const authorize: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${key}`);
      return next(req);
    };
    // Loaded only now: it is most of the CLI's start-up, which help and usage errors do without.
    const { createConnectTransport } = await import("@connectrpc/connect-node");
    // HTTP/1.1 reaches Keyward on a plain http:// URL as well as behind a TLS proxy;
    // the binary format keeps messages small.
    return createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true, interceptors: [authorize] });
  }

  private adminKey(): string {
    const file = this.values["key-file"];
    if (typeof file === "string") {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        throw new UsageError(`--key-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      }
      const key = text.trim();
      if (key === "") throw new UsageError(`--key-file: ${file} is empty`);
      return key;
    }
    const key = this.env.KEYWARD_ADMIN_KEY?.trim();
    if (!key) throw new CliError("no admin key: set KEYWARD_ADMIN_KEY or pass --key-file PATH", EXIT.denied);
    return key;
  }

  /** Writes lines of text to stdout. */
  print(...lines: string[]): void {
    this.stdout.write(lines.map((l) => `${l}\n`).join(""));
  }

  /** Writes `message` as one protobuf JSON document (pretty, or on one line for a stream of them). */
  printJson<D extends DescMessage>(schema: D, message: MessageShape<D>, oneLine = false): void {
    const json = toJson(schema, message, { alwaysEmitImplicit: false });
    this.stdout.write(`${JSON.stringify(json, null, oneLine ? undefined : 2)}\n`);
  }

  /** A command's answer: `message` as protobuf JSON with --json, else `lines(message)` for people. */
  answer<D extends DescMessage>(schema: D, message: MessageShape<D>, lines: (message: MessageShape<D>) => string[]): void {
    if (this.json) this.printJson(schema, message);
    else this.print(...lines(message));
  }
}
