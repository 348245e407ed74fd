package io.sluice.store;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The fields a client may change on a live job; null leaves a field as it is. {@code labels}
 * replaces the job's labels as a whole.
 */
public record JobPatch(Integer priority, Integer maxAttempts, ObjectNode labels) {
  public boolean isEmpty() {
    return priority == null && maxAttempts == null && labels == null;
  }
}
