/**
 * Real servers and processes for the demo and the tests, started from Maven artifacts so that
 * nothing but a JDK has to be installed: {@link io.sluice.embedded.EmbeddedRedis} (a redis-server
 * binary shipped in a jar), {@link io.sluice.embedded.EmbeddedPostgres} (PostgreSQL binaries
 * shipped in a jar) and {@link io.sluice.embedded.ChildJvm} (a Java main class in a child process
 * that can be killed, stopped, paused and resumed).
 */
package io.sluice.embedded;
