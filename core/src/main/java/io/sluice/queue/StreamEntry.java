package io.sluice.queue;

import java.util.Map;

/**
 * A stream entry as a {@link QueueCommands} adapter returns it.
 *
 * @param stream the stream's key
 * @param id the entry's id
 * @param fields the entry's fields
 */
public record StreamEntry(String stream, String id, Map<String, String> fields) {}
