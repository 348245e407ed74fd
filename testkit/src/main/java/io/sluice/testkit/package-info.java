/**
 * Test support shared by every module: {@link io.sluice.testkit.TestSettings} says where Redis and
 * PostgreSQL are (from {@code SLUICE_TEST_*} variables, or embedded servers started once per JVM),
 * and {@link io.sluice.testkit.SluiceTestExtension} gives each test class its own database and
 * Redis key prefix, described by a {@link io.sluice.testkit.TestEnvironment}, and removes them
 * afterwards.
 */
package io.sluice.testkit;
