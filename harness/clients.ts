// Clients as Keyward's users run them: the stock @grpc/grpc-js client (services)
// and Connect's JSON protocol over HTTP/1.1 with fetch (scripts, browsers).
import { fromBinary, toBinary, toJson, fromJson, type DescMethod, type DescService, type MessageShape, type DescMessage, type MessageInitShape, create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

export interface GrpcCallResult<O> {
  message?: O;
  error?: grpc.ServiceError;
}

/** A grpc-js client for one service, calling unary methods with an optional key. */
export class GrpcClient<S extends DescService> {
  private readonly client: grpc.Client;

  constructor(
    readonly service: S,
    port: number,
  ) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  call<M extends DescMethod & { methodKind: "unary" }>(
    method: M,
    input: MessageInitShape<M["input"]>,
    key?: string,
    /** More metadata, e.g. the x-forwarded-for a proxy in front of Keyward would add. */
    headers: Record<string, string> = {},
  ): Promise<MessageShape<M["output"]>> {
    const metadata = new grpc.Metadata();
    if (key !== undefined) metadata.set("authorization", `Bearer ${key}`);
    for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
    const path = `/${this.service.typeName}/${method.name}`;
    const request = create(method.input, input) as MessageShape<M["input"]>;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        path,
        (m: MessageShape<M["input"]>) => Buffer.from(toBinary(method.input, m)),
        (b: Buffer) => fromBinary(method.output, b) as MessageShape<M["output"]>,
        request,
        metadata,
        (error: grpc.ServiceError | null, message?: MessageShape<M["output"]>) =>
          error || !message ? reject(error) : resolve(message),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

export interface ConnectJsonResult {
  status: number;
  body: Record<string, unknown>;
}

/** Calls an RPC with the Connect protocol's JSON encoding over HTTP/1.1 (fetch). */
export async function connectJson(
  baseUrl: string,
  method: DescMethod,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ConnectJsonResult> {
  const res = await fetch(`${baseUrl}/${method.parent.typeName}/${method.name}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Round-trips a message through its JSON form, to compare with a Connect JSON body. */
export const asJson = <D extends DescMessage>(schema: D, message: MessageShape<D>) => toJson(schema, message);
export const parseJson = <D extends DescMessage>(schema: D, json: unknown) => fromJson(schema, json as never);
