package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.Stage;
import io.sluice.json.Json;
import io.sluice.store.PostgresJobSubmission.SplitFailedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A one-stage job split in memory before its transaction, so many of them can be stored in one
 * ({@link PostgresJobSubmission#storeGroup}): its task inputs as JSON, and its tenant's quota of
 * active jobs (null: none).
 */
public record PreparedJob(NewJob job, List<String> inputs, Integer quota) {
  public PreparedJob {
    if (job.isPipeline()) {
      throw new IllegalArgumentException("a pipeline is stored by storePipeline, not in a group");
    }
    inputs = List.copyOf(inputs);
  }

  /**
   * Splits {@code payload} into memory; empty when the splitter makes more than {@code limit} tasks
   * (such a job streams its tasks with COPY in a transaction of its own). An {@link
   * InvalidPayloadException} or unchecked exception of the splitter is thrown on, a checked one as
   * {@link SplitFailedException}.
   */
  public static Optional<PreparedJob> split(
      NewJob job, Splitter splitter, Payload payload, Integer quota, int limit) {
    List<String> inputs = new ArrayList<>();
    try {
      splitter.split(
          Stage.main(job.id()),
          payload,
          (JsonNode input) -> {
            if (inputs.size() == limit) {
              throw new TooMany();
            }
            inputs.add(Json.write(input));
          });
    } catch (TooMany e) {
      return Optional.empty();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new SplitFailedException(e);
    }
    return Optional.of(new PreparedJob(job, inputs, quota));
  }

  private static final class TooMany extends RuntimeException {
    TooMany() {
      super(null, null, false, false);
    }
  }
}
