// The floors the bench measures Keyward's CheckKey against, in the same run:
//   raw     node:http2 on the stream API, answering every request with a canned
//           gRPC response (the runtime's own cost of an HTTP/2 request);
//   grpc-js a bare @grpc/grpc-js server with one no-op unary handler.
// Each reads its request body (as CheckKey must) and answers a small message.
// Prints "ready <port>" once listening.
import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";

const PATH = "/keyward.v1.CheckService/CheckKey";
// A CheckKeyResponse of `valid: true, code: VALID`, in its gRPC envelope.
const ANSWER = Buffer.from([0, 0, 0, 0, 4, 0x08, 0x01, 0x10, 0x01]);
const mode = process.argv[2];

if (mode === "raw") {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("data", () => {});
    stream.on("end", () => {
      stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(ANSWER);
    });
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.stdout.write(`ready ${typeof address === "object" && address ? address.port : 0}\n`);
  });
} else if (mode === "grpc-js") {
  const server = new grpc.Server();
  const answer = ANSWER.subarray(5);
  const noOp: grpc.handleUnaryCall<Buffer, Buffer> = (_call, callback) => callback(null, answer);
  server.register<Buffer, Buffer>(PATH, noOp, (b) => b, (b) => b, "unary");
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    process.stdout.write(`ready ${port}\n`);
  });
} else {
  process.stderr.write("usage: floor-server.ts raw|grpc-js\n");
  process.exit(2);
}
