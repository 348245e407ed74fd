package io.sluice.api;

/**
 * A kind of job: how to split its payload into tasks, how to run one task, how to collect the
 * results. Register an implementation in {@code META-INF/services/io.sluice.api.JobType};
 * coordinators use the splitter and collector, workers the handler, so the same jar goes on both.
 */
public interface JobType {

  /** The name clients use in {@code "type"}; lower-case letters, digits, '-' and '_'. */
  String name();

  /** Checks a payload before anything is stored. */
  default void validate(Payload payload) throws InvalidPayloadException {}

  Splitter splitter();

  TaskHandler handler();

  Collector collector();
}
