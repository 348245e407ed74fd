package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class DemoCorpusTest {

  @Test
  void bundledCorpusIsExactlyWhatTheGeneratorWrites() {
    assertThat(Corpus.load().text()).isEqualTo(CorpusGenerator.generate());
  }

  @Test
  void corpusIsBigEnoughForAHundredTasksAndSmallEnoughToShip() throws IOException {
    Corpus corpus = Corpus.load();
    assertThat(corpus.lines()).isGreaterThanOrEqualTo(50_000);
    assertThat(corpus.lines() / 400)
        .as("tasks at the demo's 400 lines per task")
        .isGreaterThanOrEqualTo(100);
    assertThat(corpus.text().chars().allMatch(c -> c < 128)).as("ASCII only").isTrue();
    try (InputStream in = Corpus.class.getResourceAsStream(Corpus.RESOURCE)) {
      assertThat(in.readAllBytes().length).isLessThan(1_500_000);
    }
  }
}
