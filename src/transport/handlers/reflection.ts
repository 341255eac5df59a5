// grpc.reflection.v1 and v1alpha ServerReflection: lets buf curl, grpcurl and
// Postman discover Keyward's services without the .proto files. Built from
// the same generated descriptors the server runs on.
import { create, toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  ServerReflection as ReflectionV1,
  ServerReflectionResponseSchema as ResponseV1,
  type ServerReflectionRequest,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ReflectionV1alpha,
  ServerReflectionResponseSchema as ResponseV1alpha,
} from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** The files defining `services`, and everything they import, indexed for reflection. */
class DescriptorIndex {
  readonly files = new Map<string, DescFile>();
  readonly symbols = new Map<string, DescFile>();
  readonly extensions = new Map<string, Map<number, DescFile>>();

  constructor(readonly services: readonly DescService[]) {
    for (const s of services) this.addFile(s.file);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.addFile(dep);
    for (const s of file.services) {
      this.symbols.set(s.typeName, file);
      for (const m of s.methods) this.symbols.set(`${s.typeName}.${m.name}`, file);
    }
    const addMessages = (messages: DescFile["messages"]) => {
      for (const m of messages) {
        this.symbols.set(m.typeName, file);
        addMessages(m.nestedMessages);
        for (const e of m.nestedEnums) this.symbols.set(e.typeName, file);
        for (const x of m.nestedExtensions) this.addExtension(x.extendee.typeName, x.number, file);
      }
    };
    addMessages(file.messages);
    for (const e of file.enums) this.symbols.set(e.typeName, file);
    for (const x of file.extensions) {
      this.symbols.set(x.typeName, file);
      this.addExtension(x.extendee.typeName, x.number, file);
    }
  }

  private addExtension(extendee: string, number: number, file: DescFile): void {
    let byNumber = this.extensions.get(extendee);
    if (!byNumber) this.extensions.set(extendee, (byNumber = new Map()));
    byNumber.set(number, file);
  }

  /** The file and its transitive imports, serialised, the file first. */
  withDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  }
}

/** The answer to one reflection request, as a plain init shared by v1 and v1alpha. */
function answer(index: DescriptorIndex, req: ServerReflectionRequest) {
  const base = { validHost: req.host, originalRequest: req };
  const files = (file: DescFile | undefined, what: string) =>
    file
      ? { ...base, messageResponse: { case: "fileDescriptorResponse" as const, value: { fileDescriptorProto: index.withDependencies(file) } } }
      : { ...base, messageResponse: { case: "errorResponse" as const, value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } } };
  const r = req.messageRequest;
  switch (r.case) {
    case "listServices":
      return {
        ...base,
        messageResponse: { case: "listServicesResponse" as const, value: { service: index.services.map((s) => ({ name: s.typeName })) } },
      };
    case "fileByFilename":
      return files(index.files.get(r.value), `file ${r.value}`);
    case "fileContainingSymbol":
      return files(index.symbols.get(r.value), `symbol ${r.value}`);
    case "fileContainingExtension":
      return files(index.extensions.get(r.value.containingType)?.get(r.value.extensionNumber), `extension ${r.value.extensionNumber} of ${r.value.containingType}`);
    case "allExtensionNumbersOfType":
      return {
        ...base,
        messageResponse: {
          case: "allExtensionNumbersResponse" as const,
          value: { baseTypeName: r.value, extensionNumber: [...(index.extensions.get(r.value)?.keys() ?? [])] },
        },
      };
    default:
      return { ...base, messageResponse: { case: "errorResponse" as const, value: { errorCode: Code.InvalidArgument, errorMessage: "unknown request" } } };
  }
}

export function reflectionHandlers(services: readonly DescService[]) {
  const index = new DescriptorIndex([...services, ReflectionV1, ReflectionV1alpha]);
  const v1: ServiceImpl<typeof ReflectionV1> = {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield create(ResponseV1, answer(index, req));
    },
  };
  const v1alpha: ServiceImpl<typeof ReflectionV1alpha> = {
    async *serverReflectionInfo(requests) {
      // v1alpha's messages have v1's shape; answer through the same code.
      for await (const req of requests) {
        const init = answer(index, req as unknown as ServerReflectionRequest);
        yield create(ResponseV1alpha, init as unknown as Parameters<typeof create<typeof ResponseV1alpha>>[1]);
      }
    },
  };
  return { v1, v1alpha };
}
