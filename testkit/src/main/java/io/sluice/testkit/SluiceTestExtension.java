package io.sluice.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test class a fresh PostgreSQL database {@code sluice_t_<random>} and a fresh Redis key
 * prefix {@code t<random>}, injected as a {@link TestEnvironment} parameter into constructors,
 * lifecycle methods and test methods. After the class, it terminates the database's connections and
 * drops it, and deletes the keys matching {@code <prefix>:*}. Nothing else on the servers is
 * touched.
 *
 * <pre>{@code
 * @ExtendWith(SluiceTestExtension.class)
 * class PostgresJobStoreIT {
 *   @Test
 *   void storesAJob(TestEnvironment env) { ... }
 * }
 * }</pre>
 *
 * Nested classes share the environment of their enclosing class.
 */
public final class SluiceTestExtension
    implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(SluiceTestExtension.class);
  private static final String KEY = "environment";

  private final TestSettings settings;

  /** Uses {@link TestSettings#get()}: the {@code SLUICE_TEST_*} variables or embedded servers. */
  public SluiceTestExtension() {
    this(TestSettings.get());
  }

  /**
   * For {@code @RegisterExtension}, with explicit settings.
   *
   * @param settings where the servers are
   */
  public SluiceTestExtension(TestSettings settings) {
    this.settings = settings;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    environment(context);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    // remove() only sees this context's own store, so a nested class never removes its parent's.
    TestEnvironment env = context.getStore(NAMESPACE).remove(KEY, TestEnvironment.class);
    if (env != null) {
      new IsolatedResources(settings).remove(env);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == TestEnvironment.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return environment(context);
  }

  /**
   * The environment of the enclosing class, created on first use. With a per-class test instance
   * the constructor is resolved before {@link #beforeAll}, which is why creation is lazy.
   */
  private TestEnvironment environment(ExtensionContext context) {
    return context
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            KEY, k -> new IsolatedResources(settings).create(), TestEnvironment.class);
  }
}
