package io.sluice.e2e;

/** {@code probe-limited}: a {@link ProbeJobType} under its own name, for per-type limits. */
public final class LimitedProbeJobType extends ProbeJobType {
  @Override
  public String name() {
    return "probe-limited";
  }
}
