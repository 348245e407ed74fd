package io.sluice.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A stream of one-task {@code noop} jobs, one {@code POST /api/v1/jobs} each, offered open loop
 * ({@link OpenLoop}) at a fixed rate over a keep-alive HTTP/1.1 client whose connections grow with
 * the requests in flight ({@link KeepAliveClient}). Records each request's answer and round trip.
 */
final class StreamLoad {
  static final String BODY = "{\"type\":\"noop\",\"payload\":{\"tasks\":1}}";
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  /** What the stream offered and what the server answered. */
  record Result(
      long offered,
      double offeredPerS,
      long accepted,
      long refused,
      long refused429,
      long errors,
      long overflowed,
      Map<Integer, Long> otherStatuses,
      Percentiles acceptedRoundTrip,
      double seconds) {

    void write(ObjectNode line) {
      line.put("offered", offered)
          .put("offered_per_s", Math.round(offeredPerS * 10) / 10.0)
          .put("accepted", accepted)
          .put("accepted_per_s", seconds <= 0 ? 0 : Math.round(accepted / seconds * 10) / 10.0)
          .put("refused", refused)
          .put("refused_503", refused - refused429)
          .put("refused_429", refused429)
          .put("errors", errors)
          .put("client_overflow", overflowed);
      ObjectNode other = line.putObject("other_statuses");
      otherStatuses.forEach((s, n) -> other.put(Integer.toString(s), n));
      line.set("submit_round_trip", acceptedRoundTrip.toJson());
    }
  }

  private final URI jobs;
  private final String token;
  private final int rate;
  private final Duration duration;
  private final int maxInFlight;

  StreamLoad(URI base, String token, int rate, Duration duration, int maxInFlight) {
    this.jobs = URI.create(base + "/api/v1/jobs");
    this.token = token;
    this.rate = rate;
    this.duration = duration;
    this.maxInFlight = maxInFlight;
  }

  Result run(PrintStream err) throws InterruptedException {
    int n = Math.toIntExact(OpenLoop.count(rate, duration));
    int[] status = new int[n]; // 0 not sent, -1 no answer
    long[] roundTrip = new long[n];
    try (KeepAliveClient http =
        new KeepAliveClient(jobs, BODY, REQUEST_TIMEOUT, "Authorization: Bearer " + token)) {
      OpenLoop loop = new OpenLoop(rate, duration, maxInFlight);
      AtomicReference<String> firstError = new AtomicReference<>();
      Map<Integer, String> firstAnswers = new ConcurrentHashMap<>();
      err.printf("bench: offering %d jobs at %d/s for %d s%n", n, rate, duration.toSeconds());
      long t0 = System.nanoTime();
      loop.run(
          i -> {
            long start = System.nanoTime();
            try {
              KeepAliveClient.Answer r = http.send();
              status[i] = r.status();
              if (r.status() != 201 && firstAnswers.putIfAbsent(r.status(), "") == null) {
                err.println("bench: first " + r.status() + " answer: " + r.body());
              }
            } catch (IOException e) {
              status[i] = -1;
              if (firstError.compareAndSet(null, e.toString())) {
                err.println("bench: first submit without an answer: " + e);
              }
            }
            roundTrip[i] = System.nanoTime() - start;
          });
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (!loop.awaitInFlight(maxInFlight, REQUEST_TIMEOUT.plusSeconds(5))) {
        err.println("bench: some submits were still unanswered after the request timeout");
      }
      return tally(
          loop.offered(), loop.offeredRate(), loop.overflowed(), status, roundTrip, seconds);
    }
  }

  /** Counts the answers: 201 accepted, 503 and 429 refused, no answer an error. */
  static Result tally(
      long offered,
      double offeredPerS,
      long overflowed,
      int[] status,
      long[] roundTrip,
      double seconds) {
    long accepted = 0;
    long refused = 0;
    long refused429 = 0;
    long errors = 0;
    Map<Integer, Long> other = new TreeMap<>();
    double[] rtt = new double[status.length];
    int k = 0;
    for (int i = 0; i < status.length; i++) {
      switch (status[i]) {
        case 0 -> {}
        case 201 -> {
          accepted++;
          rtt[k++] = roundTrip[i] / 1e6;
        }
        case 503 -> refused++;
        case 429 -> {
          refused++;
          refused429++;
        }
        case -1 -> errors++;
        default -> {
          errors++;
          other.merge(status[i], 1L, Long::sum);
        }
      }
    }
    return new Result(
        offered,
        offeredPerS,
        accepted,
        refused,
        refused429,
        errors,
        overflowed,
        other,
        Percentiles.of(Arrays.copyOf(rtt, k)),
        seconds);
  }
}
