// OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT (or its
// traces-only form) is set. Off, the SDK is never imported: the code that
// makes spans uses @opentelemetry/api's tracer, which is a no-op until a
// provider registers, and the RPC interceptor and query hook are not installed.
import { trace, type Tracer } from "@opentelemetry/api";

/** Keyward's one tracer (a no-op unless startTelemetry registered a provider). */
export const tracer: Tracer = trace.getTracer("keyward");

export interface Telemetry {
  /** Ends the exporter after sending what is still buffered (the stop path awaits it). */
  shutdown(): Promise<void>;
}

/** Whether the environment asks for traces: an OTLP endpoint, and the SDK not disabled. */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Registers the Node tracer provider with an OTLP/HTTP (JSON) exporter, or
 * returns undefined, importing nothing, when tracing is not requested. The SDK
 * reads the standard variables itself: the endpoint and headers, the sampler
 * (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG), the batch settings and
 * OTEL_RESOURCE_ATTRIBUTES; OTEL_SERVICE_NAME defaults to "keyward".
 */
export async function startTelemetry(version: string, env: NodeJS.ProcessEnv = process.env): Promise<Telemetry | undefined> {
  if (!tracingRequested(env)) return undefined;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes, detectResources, envDetector }, semconv] =
    await Promise.all([
      import("@opentelemetry/sdk-trace-node"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/semantic-conventions"),
    ]);
  // The environment's resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) wins over Keyward's defaults.
  const resource = resourceFromAttributes({
    [semconv.ATTR_SERVICE_NAME]: "keyward",
    [semconv.ATTR_SERVICE_VERSION]: version,
  }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  // Also installs the AsyncLocalStorage context manager (store and argon2 spans find their RPC)
  // and the W3C trace-context propagator (an incoming traceparent continues its trace).
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
