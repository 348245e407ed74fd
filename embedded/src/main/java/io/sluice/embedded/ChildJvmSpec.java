package io.sluice.embedded;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link ChildJvm#start(ChildJvmSpec)} runs: a main class with its arguments, a classpath,
 * extra environment variables (added to this JVM's environment) and JVM arguments, and the log
 * file.
 *
 * @param name a short name for messages, e.g. {@code worker-1}
 * @param mainClass the fully qualified main class
 * @param classpath the {@code -cp} value
 * @param jvmArgs arguments before the main class, e.g. {@code -Xmx256m}
 * @param args arguments after the main class
 * @param env variables added to the inherited environment
 * @param logFile where standard output and error are appended
 */
public record ChildJvmSpec(
    String name,
    String mainClass,
    String classpath,
    List<String> jvmArgs,
    List<String> args,
    Map<String, String> env,
    Path logFile) {

  /** Checks the required parts and copies the collections. */
  public ChildJvmSpec {
    Objects.requireNonNull(mainClass, "mainClass");
    Objects.requireNonNull(classpath, "classpath");
    Objects.requireNonNull(logFile, "logFile");
    name = name == null ? mainClass.substring(mainClass.lastIndexOf('.') + 1) : name;
    jvmArgs = List.copyOf(jvmArgs);
    args = List.copyOf(args);
    env = Map.copyOf(env);
  }

  /** Starts this spec: the same as {@code ChildJvm.start(this)}. */
  public ChildJvm start() {
    return ChildJvm.start(this);
  }

  /** Collects the parts of a {@link ChildJvmSpec}. */
  public static final class Builder {
    private final String mainClass;
    private String name;
    private String classpath = ChildJvm.currentClasspath();
    private final List<String> jvmArgs = new ArrayList<>();
    private final List<String> args = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private Path logFile;

    Builder(String mainClass) {
      this.mainClass = mainClass;
    }

    /** Sets the name used in messages. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** Sets the classpath; the default is this JVM's ({@link ChildJvm#currentClasspath()}). */
    public Builder classpath(String classpath) {
      this.classpath = classpath;
      return this;
    }

    /** Adds JVM arguments. */
    public Builder jvmArgs(String... jvmArgs) {
      this.jvmArgs.addAll(List.of(jvmArgs));
      return this;
    }

    /** Adds program arguments. */
    public Builder args(String... args) {
      this.args.addAll(List.of(args));
      return this;
    }

    /** Adds an environment variable. */
    public Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    /** Adds environment variables. */
    public Builder env(Map<String, String> variables) {
      env.putAll(variables);
      return this;
    }

    /** Sets the file that receives standard output and error. */
    public Builder logFile(Path logFile) {
      this.logFile = logFile;
      return this;
    }

    /**
     * @return the spec
     */
    public ChildJvmSpec build() {
      return new ChildJvmSpec(name, mainClass, classpath, jvmArgs, args, env, logFile);
    }

    /** Builds the spec and starts it. */
    public ChildJvm start() {
      return build().start();
    }
  }
}
