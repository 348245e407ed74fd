package io.sluice.coordinator;

import io.sluice.store.Database;
import io.sluice.store.PostgresJobRepair.Cursor;
import io.sluice.store.PostgresJobRepair.Found;
import io.sluice.store.PostgresJobRepair.Kind;
import io.sluice.store.PostgresTaskRecovery.Stranded;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * What the sweeper finds in PostgreSQL, as the test sets it up, and a log of what it asked: reads
 * as {@code "stalled UNCOLLECTED after ..."}, fenced writes as {@code "fenced reclaim ..."} only
 * when the leader fence actually ran them.
 */
final class FakeSweepStore implements SweepStore {
  final Map<Kind, List<Found>> stalled = new EnumMap<>(Kind.class);
  final Map<Kind, Duration> graces = new EnumMap<>(Kind.class);
  final Map<UUID, String> queues = new HashMap<>();
  final List<Stranded> dueRetries = new ArrayList<>();
  final List<Stranded> expiredLeases = new ArrayList<>();
  final List<String> activeQueues = new ArrayList<>();
  final List<String> deadNodes = new ArrayList<>();
  final List<String> calls = new ArrayList<>();
  final List<UUID> touched = new ArrayList<>();

  /** Runs when the named read is made, e.g. to depose the leader in the middle of a sweep. */
  final Map<String, Runnable> onRead = new HashMap<>();

  @Override
  public List<Found> stalled(Kind kind, Duration grace, Cursor after, int limit) {
    calls.add("stalled " + kind + " after " + after.id());
    graces.put(kind, grace);
    List<Found> all = stalled.getOrDefault(kind, List.of());
    List<Found> page = new ArrayList<>();
    for (Found f : all) {
      if (page.size() < limit && f.position().at().isAfter(after.at())) {
        page.add(f);
      }
    }
    return page;
  }

  @Override
  public Optional<String> queueOf(UUID jobId) {
    return Optional.ofNullable(queues.get(jobId));
  }

  @Override
  public void touch(UUID jobId) {
    touched.add(jobId);
  }

  @Override
  public List<Stranded> dueRetries(int limit) {
    calls.add("dueRetries");
    onRead.getOrDefault("dueRetries", () -> {}).run();
    return List.copyOf(dueRetries);
  }

  @Override
  public List<Stranded> expiredLeases(int limit) {
    calls.add("expiredLeases");
    onRead.getOrDefault("expiredLeases", () -> {}).run();
    return List.copyOf(expiredLeases);
  }

  @Override
  public List<String> activeKeyedStreams() {
    return List.of();
  }

  @Override
  public List<String> activeQueues() {
    calls.add("activeQueues");
    onRead.getOrDefault("activeQueues", () -> {}).run();
    return List.copyOf(activeQueues);
  }

  @Override
  public Database.TxWork<List<String>> markDead(Duration silence) {
    return c -> {
      calls.add("fenced markDead " + silence);
      return List.copyOf(deadNodes);
    };
  }

  @Override
  public Database.TxWork<Integer> markRetriesQueued(List<Stranded> due) {
    return c -> {
      calls.add("fenced markRetriesQueued " + due.size());
      return due.size();
    };
  }

  @Override
  public Database.TxWork<Integer> reclaim(List<Stranded> expired) {
    return c -> {
      calls.add("fenced reclaim " + expired.size());
      return expired.size();
    };
  }

  /** The fenced writes that ran. */
  List<String> fenced() {
    return calls.stream().filter(c -> c.startsWith("fenced ")).toList();
  }
}
