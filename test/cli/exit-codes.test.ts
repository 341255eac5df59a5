// The exit codes README "Command line" promises, one row per Connect code:
// a script branching on them must not see one move.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CliError, describeFailure, EXIT, exitCodeOf, UsageError } from "../../src/cli/exit-codes.js";

const TABLE: [Code, number][] = [
  [Code.Canceled, 10],
  [Code.Unknown, 10],
  [Code.InvalidArgument, 4],
  [Code.DeadlineExceeded, 5],
  [Code.NotFound, 2],
  [Code.AlreadyExists, 4],
  [Code.PermissionDenied, 3],
  [Code.ResourceExhausted, 10],
  [Code.FailedPrecondition, 4],
  [Code.Aborted, 10],
  [Code.OutOfRange, 4],
  [Code.Unimplemented, 10],
  [Code.Internal, 10],
  [Code.Unavailable, 5],
  [Code.DataLoss, 10],
  [Code.Unauthenticated, 3],
];

describe("CLI exit codes", () => {
  it("covers every Connect code", () => {
    const codes = Object.values(Code).filter((v): v is Code => typeof v === "number");
    expect(TABLE.map(([c]) => c).sort()).toEqual(codes.sort());
  });

  it.each(TABLE.map(([code, exit]) => ({ name: Code[code], code, exit })))("$name exits $exit", ({ code, exit }) => {
    expect(exitCodeOf(code)).toBe(exit);
    expect(describeFailure(new ConnectError("x", code)).exitCode).toBe(exit);
  });

  it("names Connect codes as Connect's JSON errors do, and keeps usage and local errors apart", () => {
    expect(describeFailure(new ConnectError("gone", Code.NotFound))).toEqual({ exitCode: 2, code: "not_found", message: "gone" });
    expect(describeFailure(new ConnectError("no", Code.FailedPrecondition)).code).toBe("failed_precondition");
    expect(describeFailure(new UsageError("--name is required"))).toEqual({ exitCode: EXIT.usage, code: "usage", message: "--name is required" });
    expect(describeFailure(new CliError("no admin key", EXIT.denied)).exitCode).toBe(3);
    expect(describeFailure(new Error("boom")).exitCode).toBe(EXIT.other);
  });
});
