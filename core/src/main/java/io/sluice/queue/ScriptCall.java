package io.sluice.queue;

import io.sluice.redis.Script;
import java.util.List;

/**
 * One call of a script with its keys and arguments, laid out by {@link QueueScripts}.
 *
 * @param script the script
 * @param keys KEYS, as the script's header names them
 * @param args ARGV, as the script's header names them
 */
public record ScriptCall(Script script, List<String> keys, List<String> args) {}
