package io.sluice.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The demo's text and its word counts computed here, independently of the workers, so the demo can
 * check the distributed result: a lost or double-counted task shows as a different total.
 */
record Corpus(String text, int lines, long totalWords, Map<String, Long> counts) {
  static final String RESOURCE = "/demo/corpus.txt.gz";
  private static final Pattern NON_LETTERS = Pattern.compile("[^\\p{L}]+");

  static Corpus load() {
    try (InputStream in = Corpus.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is not on the classpath");
      }
      return of(new String(new GZIPInputStream(in).readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + RESOURCE, e);
    }
  }

  /** Lower-cased, split on runs of non-letters, empty strings dropped. */
  static Corpus of(String text) {
    Map<String, Long> counts = new HashMap<>();
    long total = 0;
    for (String word : NON_LETTERS.split(text.toLowerCase(Locale.ROOT))) {
      if (!word.isEmpty()) {
        counts.merge(word, 1L, Long::sum);
        total++;
      }
    }
    return new Corpus(text, (int) text.lines().count(), total, counts);
  }

  /** The {@code n} most frequent words, most frequent first, ties by word. */
  List<Map.Entry<String, Long>> top(int n) {
    List<Map.Entry<String, Long>> entries = new ArrayList<>(counts.entrySet());
    entries.sort(
        Map.Entry.<String, Long>comparingByValue()
            .reversed()
            .thenComparing(Map.Entry.comparingByKey()));
    return entries.subList(0, Math.min(n, entries.size()));
  }

  /**
   * The text cut in two at the line boundary nearest its middle line: the first half of its lines
   * and the rest, which concatenated are the text again.
   */
  List<String> halves() {
    int cut = 0;
    for (int line = 0; line < lines / 2; line++) {
      cut = text.indexOf('\n', cut) + 1;
    }
    return List.of(text.substring(0, cut), text.substring(cut));
  }
}
