package io.sluice.builtin;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** The one definition of a word: a maximal run of letters, lower-cased. */
public final class WordCounts {
  private WordCounts() {}

  public static Map<String, Integer> count(String text) {
    Map<String, Integer> counts = new HashMap<>();
    int i = 0;
    int n = text.length();
    while (i < n) {
      while (i < n && !Character.isLetter(text.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < n && Character.isLetter(text.charAt(i))) {
        i++;
      }
      if (i > start) {
        counts.merge(text.substring(start, i).toLowerCase(Locale.ROOT), 1, Integer::sum);
      }
    }
    return counts;
  }
}
