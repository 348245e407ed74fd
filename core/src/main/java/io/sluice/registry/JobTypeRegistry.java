package io.sluice.registry;

import io.sluice.api.JobType;
import io.sluice.config.ConfigException;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The job types on the classpath, found with {@link ServiceLoader}. */
public final class JobTypeRegistry {
  private final Map<String, JobType> types;

  private JobTypeRegistry(Map<String, JobType> types) {
    this.types = Map.copyOf(types);
  }

  public static JobTypeRegistry load() {
    Map<String, JobType> found = new TreeMap<>();
    for (JobType type : ServiceLoader.load(JobType.class)) {
      JobType previous = found.put(type.name(), type);
      if (previous != null) {
        throw new ConfigException(
            "job type " + type.name(),
            null,
            "is registered twice, by "
                + previous.getClass().getName()
                + " and "
                + type.getClass().getName());
      }
    }
    return new JobTypeRegistry(found);
  }

  public Optional<JobType> find(String name) {
    return Optional.ofNullable(types.get(name));
  }

  public Set<String> names() {
    return new TreeSet<>(types.keySet());
  }
}
