// The dashboard's built files (web/dist) at "/". API paths are matched
// before this; a GET for an unknown page gets index.html (client-side routes).
import { createReadStream, existsSync, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import type { NodeRequest, NodeResponse } from "./one-port.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

/** Returns a handler that serves `root`'s files for GET and HEAD, answering false for anything else. */
export function staticFiles(root: string): (req: NodeRequest, res: NodeResponse) => boolean {
  const index = join(root, "index.html");
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (!existsSync(index)) return false;
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    } catch {
      return false;
    }
    const file = normalize(join(root, path));
    // Nothing outside the build folder, whatever the path says.
    if (file !== root && !file.startsWith(root + sep)) return false;
    const isFile = existsSync(file) && statSync(file).isFile();
    const wantsPage = !isFile && extname(path) === "" && (req.headers.accept ?? "").includes("text/html");
    if (!isFile && !wantsPage) return false;
    const served = isFile ? file : index;
    res.writeHead(200, {
      "content-type": TYPES[extname(served)] ?? "application/octet-stream",
      // Built assets have content hashes in their names; the page itself must be revalidated.
      "cache-control": served.includes(`${sep}assets${sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
      "referrer-policy": "no-referrer",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(served).pipe(res as unknown as NodeJS.WritableStream);
    return true;
  };
}
