// protovalidate's validate.proto is written back from the descriptor embedded in
// @bufbuild/protovalidate (scripts/proto-source.mjs), so that buf can compile
// Keyward's `(buf.validate.field)` annotations. That source must compile to the
// very descriptor protovalidate ships: the rules our annotations set are then
// the ones its validator reads.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clone, createRegistry, fromBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
// @ts-expect-error -- a plain-JS build script, typed by use here
import { protoSource } from "../../scripts/proto-source.mjs";

const work = mkdtempSync(join(tmpdir(), "keyward-validate-proto-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the staged buf/validate/validate.proto", () => {
  it("compiles with buf to the descriptor @bufbuild/protovalidate embeds", () => {
    const name = file_buf_validate_validate.proto.name;
    mkdirSync(dirname(join(work, name)), { recursive: true });
    writeFileSync(join(work, name), (protoSource as (f: unknown, origin: string) => string)(file_buf_validate_validate, "test"));
    const image = join(work, "image.binpb");
    execFileSync(join("node_modules", ".bin", "buf"), ["build", work, "--path", join(work, name), "-o", image]);

    const set = fromBinary(FileDescriptorSetSchema, readFileSync(image));
    const compiled = clone(FileDescriptorProtoSchema, set.file.find((f) => f.name === name)!);
    compiled.sourceCodeInfo = undefined;
    // Custom options are compared decoded, so that field order on the wire does not matter.
    const registry = createRegistry(file_buf_validate_validate);
    const json = (fdp: typeof compiled) => toJson(FileDescriptorProtoSchema, fdp, { registry });
    expect(json(compiled)).toEqual(json(file_buf_validate_validate.proto));
  });
});
