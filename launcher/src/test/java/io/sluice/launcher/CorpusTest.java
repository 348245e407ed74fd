package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import org.junit.jupiter.api.Test;

class CorpusTest {

  @Test
  void wordsAreLowerCasedRunsOfLettersAndEverythingElseSeparates() {
    Corpus corpus = Corpus.of("Hello, hello WORLD!\nit's 42 x-y  \n\n");
    assertThat(corpus.totalWords()).isEqualTo(7);
    assertThat(corpus.counts())
        .containsOnly(
            entry("hello", 2L),
            entry("world", 1L),
            entry("it", 1L),
            entry("s", 1L),
            entry("x", 1L),
            entry("y", 1L));
    assertThat(corpus.lines()).isEqualTo(3);
  }

  @Test
  void topIsOrderedByCountThenWord() {
    Corpus corpus = Corpus.of("b a c b a b d");
    assertThat(corpus.top(3)).containsExactly(entry("b", 3L), entry("a", 2L), entry("c", 1L));
  }
}
