/**
 * The public surface a Sluice user implements: a {@link io.sluice.api.JobType} names a job type and
 * supplies its {@link io.sluice.api.Splitter}, {@link io.sluice.api.TaskHandler} and {@link
 * io.sluice.api.Collector}. Job types are found with {@link java.util.ServiceLoader}.
 */
package io.sluice.api;
