package io.sluice.tracing;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Traces of jobs (issue 14), exported over OTLP when {@code OTEL_EXPORTER_OTLP_ENDPOINT} (or {@code
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}) is set, and off otherwise: then {@link #tracer()} is
 * OpenTelemetry's no-op tracer, no SDK object exists and nothing is exported.
 *
 * <p>When on, spans go through one {@link BatchSpanProcessor} with a bounded queue ({@code
 * OTEL_BSP_MAX_QUEUE_SIZE}, default 2048): a span ended while the queue is full is dropped, never
 * waited for, and counted in {@code sluice_trace_spans_dropped_total}. The service is named by
 * {@code OTEL_SERVICE_NAME} (default the process's own name); {@code OTEL_EXPORTER_OTLP_PROTOCOL}
 * is {@code http/protobuf} (default) or {@code grpc}; {@code OTEL_EXPORTER_OTLP_HEADERS} ({@code
 * k=v,k2=v2}) is sent with every export; {@code OTEL_BSP_SCHEDULE_DELAY} (ms, default 5000) is how
 * long a span may wait to be sent; {@code OTEL_SDK_DISABLED=true} turns it all off.
 */
public final class Tracing implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Tracing.class);

  /** The attributes Sluice's spans carry. */
  public static final AttributeKey<String> JOB_ID = AttributeKey.stringKey("sluice.job.id");

  public static final AttributeKey<String> JOB_TYPE = AttributeKey.stringKey("sluice.job.type");
  public static final AttributeKey<String> QUEUE = AttributeKey.stringKey("sluice.queue");
  public static final AttributeKey<String> TENANT = AttributeKey.stringKey("sluice.tenant");
  public static final AttributeKey<String> STAGE = AttributeKey.stringKey("sluice.stage.name");
  public static final AttributeKey<String> PIPELINE_ID =
      AttributeKey.stringKey("sluice.pipeline.id");
  public static final AttributeKey<Long> TASK_SEQ = AttributeKey.longKey("sluice.task.seq");
  public static final AttributeKey<Long> TASK_ATTEMPT = AttributeKey.longKey("sluice.task.attempt");
  public static final AttributeKey<Long> TASK_COUNT = AttributeKey.longKey("sluice.task.count");
  public static final AttributeKey<String> WORKER_ID = AttributeKey.stringKey("sluice.worker.id");
  public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("sluice.outcome");

  private static final String INSTRUMENTATION = "io.sluice";

  private static final TextMapGetter<String> HEADER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(String carrier) {
          return List.of("traceparent");
        }

        @Override
        public String get(String carrier, String key) {
          return "traceparent".equals(key) ? carrier : null;
        }
      };

  private final OpenTelemetrySdk sdk;
  private final Tracer tracer;

  private Tracing(OpenTelemetrySdk sdk) {
    this.sdk = sdk;
    this.tracer =
        sdk == null
            ? OpenTelemetry.noop().getTracer(INSTRUMENTATION)
            : sdk.getTracer(INSTRUMENTATION);
  }

  /** Tracing that is off: a no-op tracer, nothing exported. */
  public static Tracing off() {
    return new Tracing(null);
  }

  /**
   * Tracing as the standard OpenTelemetry variables in {@code env} say: off unless an OTLP endpoint
   * is set; {@code process} names the service when {@code OTEL_SERVICE_NAME} does not. A bad value
   * stops the start with a message naming the variable.
   */
  public static Tracing fromEnv(Map<String, String> env, String process, MeterRegistry metrics) {
    String endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    boolean signalSpecific = endpoint != null && !endpoint.isBlank();
    if (!signalSpecific) {
      endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
    }
    if (endpoint == null
        || endpoint.isBlank()
        || "true".equalsIgnoreCase(env.getOrDefault("OTEL_SDK_DISABLED", "false").trim())) {
      return off();
    }
    endpoint = endpoint.trim();
    String protocol =
        env.getOrDefault("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .trim()
            .toLowerCase(Locale.ROOT);
    String service = env.getOrDefault("OTEL_SERVICE_NAME", "").trim();
    if (service.isEmpty()) {
      service = process;
    }
    Map<String, String> headers = headers(env.getOrDefault("OTEL_EXPORTER_OTLP_HEADERS", ""));
    SpanExporter exporter =
        switch (protocol) {
          case "http/protobuf" -> {
            var b =
                OtlpHttpSpanExporter.builder()
                    .setEndpoint(
                        signalSpecific ? endpoint : endpoint.replaceAll("/+$", "") + "/v1/traces");
            headers.forEach(b::addHeader);
            yield b.build();
          }
          case "grpc" -> {
            var b = OtlpGrpcSpanExporter.builder().setEndpoint(endpoint);
            headers.forEach(b::addHeader);
            yield b.build();
          }
          default ->
              throw new IllegalArgumentException(
                  "OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc, not '"
                      + protocol
                      + "'");
        };
    DroppedSpans dropped = new DroppedSpans();
    SdkMeterProvider internal = SdkMeterProvider.builder().registerMetricReader(dropped).build();
    BatchSpanProcessor processor =
        BatchSpanProcessor.builder(exporter)
            .setMaxQueueSize(positive(env, "OTEL_BSP_MAX_QUEUE_SIZE", 2048))
            .setMaxExportBatchSize(
                Math.min(
                    positive(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512),
                    positive(env, "OTEL_BSP_MAX_QUEUE_SIZE", 2048)))
            .setScheduleDelay(positive(env, "OTEL_BSP_SCHEDULE_DELAY", 5000), TimeUnit.MILLISECONDS)
            .setMeterProvider(internal)
            .build();
    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.create(
                            Attributes.of(AttributeKey.stringKey("service.name"), service))))
            .addSpanProcessor(processor)
            .build();
    OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(tracerProvider)
            .setMeterProvider(internal)
            .build();
    FunctionCounter.builder("sluice_trace_spans_dropped", dropped, DroppedSpans::count)
        .description("Spans dropped because the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE)")
        .register(metrics);
    log.info(
        "Traces are exported as {} over OTLP {} to {}", service, protocol, withoutUser(endpoint));
    return new Tracing(sdk);
  }

  /** True when spans are recorded and exported. */
  public boolean enabled() {
    return sdk != null;
  }

  public Tracer tracer() {
    return tracer;
  }

  /**
   * The context whose parent span is the one a W3C {@code traceparent} names, or the root context
   * when {@code traceParent} is null or malformed (a bad header starts a new trace, as the W3C
   * recommendation says; it is never an error).
   */
  public static Context parent(String traceParent) {
    if (traceParent == null || traceParent.isBlank()) {
      return Context.root();
    }
    return W3CTraceContextPropagator.getInstance()
        .extract(Context.root(), traceParent.trim(), HEADER);
  }

  /** The span context a W3C {@code traceparent} names; invalid when it is null or malformed. */
  public static SpanContext spanContext(String traceParent) {
    return Span.fromContext(parent(traceParent)).getSpanContext();
  }

  /** The W3C {@code traceparent} of {@code span}, or null when it has no valid context. */
  public static String traceParent(SpanContext span) {
    if (span == null || !span.isValid()) {
      return null;
    }
    return "00-" + span.getTraceId() + "-" + span.getSpanId() + "-" + span.getTraceFlags().asHex();
  }

  /** Sends what is queued, waiting at most {@code timeout}. */
  public void flush(Duration timeout) {
    if (sdk != null) {
      sdk.getSdkTracerProvider().forceFlush().join(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Exports what is queued (up to 5 s) and stops. */
  @Override
  public void close() {
    if (sdk != null) {
      sdk.getSdkTracerProvider().shutdown().join(5, TimeUnit.SECONDS);
      sdk.getSdkMeterProvider().shutdown().join(1, TimeUnit.SECONDS);
    }
  }

  /** The endpoint as it may be logged: without a user or password in it. */
  static String withoutUser(String endpoint) {
    return endpoint.replaceFirst("^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", "$1");
  }

  private static int positive(Map<String, String> env, String name, int otherwise) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return otherwise;
    }
    try {
      int n = Integer.parseInt(value.trim());
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(name + " must be a positive integer, not '" + value + "'");
  }

  private static Map<String, String> headers(String spec) {
    LinkedHashMap<String, String> headers = new LinkedHashMap<>();
    for (String pair : spec.split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        // The value may be a secret: name only the variable.
        throw new IllegalArgumentException(
            "OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas");
      }
      headers.put(
          pair.substring(0, eq).trim(),
          URLDecoder.decode(pair.substring(eq + 1).trim(), StandardCharsets.UTF_8));
    }
    return headers;
  }

  /**
   * Reads the batch processor's own count of spans it dropped (its {@code processedSpans} counter
   * with {@code dropped=true}, or the newer {@code otel.sdk.processor.span.processed} with an
   * {@code error.type}) whenever the Micrometer counter is read.
   */
  private static final class DroppedSpans implements MetricReader {
    private static final AttributeKey<Boolean> DROPPED = AttributeKey.booleanKey("dropped");
    private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    private volatile CollectionRegistration registration = CollectionRegistration.noop();

    @Override
    public void register(CollectionRegistration registration) {
      this.registration = registration;
    }

    double count() {
      long dropped = 0;
      for (MetricData metric : registration.collectAllMetrics()) {
        boolean legacy = metric.getName().equals("processedSpans");
        if (!legacy && !metric.getName().equals("otel.sdk.processor.span.processed")) {
          continue;
        }
        for (LongPointData point : metric.getLongSumData().getPoints()) {
          Attributes a = point.getAttributes();
          if (legacy ? Boolean.TRUE.equals(a.get(DROPPED)) : a.get(ERROR_TYPE) != null) {
            dropped += point.getValue();
          }
        }
      }
      return dropped;
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType type) {
      return AggregationTemporality.CUMULATIVE;
    }

    @Override
    public CompletableResultCode forceFlush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
