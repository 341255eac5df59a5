// A span per SQL statement when tracing is on, from kysely's log hook (it runs
// after each query, in the caller's async context, with the query's duration).
// The span names the operation and the table, never the SQL's parameters.
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { TableNode, type LogEvent, type RootOperationNode } from "kysely";
import { tracer } from "../telemetry.js";

/** The table a query node reads or writes first, when it names one. */
function tableOf(node: RootOperationNode): string | undefined {
  const table =
    node.kind === "SelectQueryNode" || node.kind === "DeleteQueryNode"
      ? node.from?.froms[0]
      : node.kind === "InsertQueryNode"
        ? node.into
        : node.kind === "UpdateQueryNode"
          ? node.table
          : undefined;
  return table && TableNode.is(table) ? table.table.identifier.name : undefined;
}

/** SELECT, INSERT, …; for raw SQL (BEGIN, COMMIT, hand-written queries) its first word. */
function operationOf(sql: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(sql);
  return match ? match[1]!.toUpperCase() : "QUERY";
}

/**
 * kysely's `log` option: records the finished query as a client span under the
 * active one. Background work (webhook polls, last-use and usage syncs, several
 * a second) runs outside any span and is left out rather than made a trace of its own.
 */
export function querySpan(event: LogEvent): void {
  if (trace.getActiveSpan() === undefined) return;
  const endTime = performance.timeOrigin + performance.now();
  const operation = operationOf(event.query.sql);
  const table = tableOf(event.query.query);
  const attributes: Record<string, string> = { "db.system": "postgresql", "db.system.name": "postgresql", "db.operation.name": operation };
  if (table) attributes["db.collection.name"] = table;
  const span = tracer.startSpan(table ? `${operation} ${table}` : operation, {
    kind: SpanKind.CLIENT,
    startTime: endTime - event.queryDurationMillis,
    attributes,
  });
  // Only that it failed: a database error's message can quote a value.
  if (event.level === "error") span.setStatus({ code: SpanStatusCode.ERROR, message: "query failed" });
  span.end(endTime);
}
