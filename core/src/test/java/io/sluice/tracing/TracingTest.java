package io.sluice.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TracingTest {
  @Test
  void offWhenNoEndpointIsSet() {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    try (Tracing tracing =
        Tracing.fromEnv(Map.of("OTEL_SERVICE_NAME", "x"), "sluice-test", metrics)) {
      assertThat(tracing.enabled()).isFalse();
      Span span = tracing.tracer().spanBuilder("s").startSpan();
      assertThat(span.isRecording()).as("the no-op tracer records nothing").isFalse();
      assertThat(span.getSpanContext().isValid()).isFalse();
      span.end();
      assertThat(metrics.find("sluice_trace_spans_dropped").meter())
          .as("no exporter, no processor, no metric")
          .isNull();
    }
  }

  @Test
  void offWhenTheSdkIsDisabled() {
    try (Tracing tracing =
        Tracing.fromEnv(
            Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_SDK_DISABLED", "true"),
            "sluice-test",
            new SimpleMeterRegistry())) {
      assertThat(tracing.enabled()).isFalse();
    }
  }

  @Test
  void aFullQueueDropsSpansCountsThemAndNeverBlocks() {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    // Nothing listens on port 1; the schedule delay keeps the queue from draining meanwhile.
    try (Tracing tracing =
        Tracing.fromEnv(
            Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1",
                "OTEL_BSP_MAX_QUEUE_SIZE", "4",
                "OTEL_BSP_SCHEDULE_DELAY", "60000"),
            "sluice-test",
            metrics)) {
      assertThat(tracing.enabled()).isTrue();
      long start = System.nanoTime();
      for (int i = 0; i < 1000; i++) {
        tracing.tracer().spanBuilder("s" + i).startSpan().end();
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      double dropped = metrics.get("sluice_trace_spans_dropped").functionCounter().count();
      assertThat(dropped).as("all but what the queue (and one batch) held").isGreaterThan(900);
    }
  }

  @Test
  void traceParentRoundTripsAndABadOneStartsANewTrace() {
    String tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    SpanContext parsed = Tracing.spanContext(tp);
    assertThat(parsed.isValid()).isTrue();
    assertThat(parsed.isRemote()).isTrue();
    assertThat(parsed.getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(parsed.getSpanId()).isEqualTo("b7ad6b7169203331");
    assertThat(Tracing.traceParent(parsed)).isEqualTo(tp);
    for (String bad :
        new String[] {null, "", "garbage", "00-" + "0".repeat(32) + "-b7ad6b7169203331-01"}) {
      assertThat(Tracing.spanContext(bad).isValid()).as("%s", bad).isFalse();
    }
    assertThat(Tracing.traceParent(SpanContext.getInvalid())).isNull();
  }

  @Test
  void theLoggedEndpointHasNoCredentials() {
    assertThat(Tracing.withoutUser("https://user:secret@collector:4318/x"))
        .isEqualTo("https://collector:4318/x");
    assertThat(Tracing.withoutUser("http://collector:4318")).isEqualTo("http://collector:4318");
  }

  @Test
  void anUnknownProtocolOrABadNumberIsRefusedByName() {
    assertThatThrownBy(
            () ->
                Tracing.fromEnv(
                    Map.of(
                        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1",
                        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
                    "sluice-test",
                    new SimpleMeterRegistry()))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_PROTOCOL");
    assertThatThrownBy(
            () ->
                Tracing.fromEnv(
                    Map.of(
                        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1",
                        "OTEL_BSP_MAX_QUEUE_SIZE", "-1"),
                    "sluice-test",
                    new SimpleMeterRegistry()))
        .hasMessageContaining("OTEL_BSP_MAX_QUEUE_SIZE");
  }
}
