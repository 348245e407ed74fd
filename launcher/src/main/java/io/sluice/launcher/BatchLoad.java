package io.sluice.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.client.SluiceApiException;
import io.sluice.client.SluiceClient;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code jobs} one-task {@code noop} jobs sent as {@code POST /api/v1/jobs/batch} requests of
 * {@code batchSize} by {@code connections} senders at once, each sending its next batch when the
 * last was answered (closed loop: a batch endpoint is measured by what it can take).
 */
final class BatchLoad {
  /** What was sent and answered; {@code roundTrip} is per batch. */
  record Result(
      long accepted,
      long refusedBatches,
      long errorBatches,
      Percentiles roundTrip,
      double seconds) {

    void write(ObjectNode line) {
      line.put("accepted", accepted)
          .put("accepted_per_s", seconds <= 0 ? 0 : Math.round(accepted / seconds * 10) / 10.0)
          .put("refused_batches", refusedBatches)
          .put("error_batches", errorBatches)
          .put("submit_seconds", Math.round(seconds * 100) / 100.0);
      line.set("batch_round_trip", roundTrip.toJson());
    }
  }

  private final SluiceClient api;
  private final int jobs;
  private final int batchSize;
  private final int connections;

  BatchLoad(SluiceClient api, int jobs, int batchSize, int connections) {
    this.api = api;
    this.jobs = jobs;
    this.batchSize = batchSize;
    this.connections = connections;
  }

  /** The sizes of the batches {@code jobs} jobs make: full ones, then the remainder. */
  static List<Integer> batches(int jobs, int batchSize) {
    List<Integer> sizes = new ArrayList<>();
    for (int left = jobs; left > 0; left -= batchSize) {
      sizes.add(Math.min(batchSize, left));
    }
    return sizes;
  }

  Result run(PrintStream err) throws InterruptedException {
    List<Integer> sizes = batches(jobs, batchSize);
    List<ObjectNode> body = new ArrayList<>();
    for (int i = 0; i < batchSize; i++) {
      body.add(CliClient.JSON.createObjectNode().put("type", "noop"));
      body.get(i).putObject("payload").put("tasks", 1);
    }
    AtomicInteger next = new AtomicInteger();
    AtomicLong accepted = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicReference<RuntimeException> fatal = new AtomicReference<>();
    List<Double> rtt = Collections.synchronizedList(new ArrayList<>());
    err.printf(
        "bench: submitting %d jobs in %d batches over %d connections%n",
        jobs, sizes.size(), connections);
    long t0 = System.nanoTime();
    List<Thread> senders = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      senders.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int b;
                        fatal.get() == null && (b = next.getAndIncrement()) < sizes.size(); ) {
                      long start = System.nanoTime();
                      try {
                        int n = api.submitBatch(body.subList(0, sizes.get(b))).size();
                        rtt.add((System.nanoTime() - start) / 1e6);
                        accepted.addAndGet(n);
                      } catch (SluiceApiException e) {
                        if (e.status() == 404) {
                          fatal.compareAndSet(null, notThere(e));
                        } else if (e.status() == 503 || e.status() == 429) {
                          refused.incrementAndGet();
                        } else {
                          errors.incrementAndGet();
                          err.println("bench: batch refused: " + e.getMessage());
                        }
                      } catch (RuntimeException e) {
                        errors.incrementAndGet();
                        err.println("bench: batch failed: " + e.getMessage());
                      }
                    }
                  }));
    }
    for (Thread t : senders) {
      t.join();
    }
    if (fatal.get() != null) {
      throw fatal.get();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double[] trips = rtt.stream().mapToDouble(Double::doubleValue).toArray();
    return new Result(accepted.get(), refused.get(), errors.get(), Percentiles.of(trips), seconds);
  }

  private static LauncherException notThere(SluiceApiException e) {
    return new LauncherException(
        LauncherException.FAILED,
        "POST /api/v1/jobs/batch answered 404: this coordinator has no batch endpoint (DESIGN.md,"
            + " \"Batches, schedules, queues, deadlines\"); build one that has it, or run another"
            + " --scenario",
        e);
  }
}
