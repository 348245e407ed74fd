package io.sluice.launcher;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

/**
 * Writes the demo corpus {@code src/main/resources/demo/corpus.txt.gz}: English-like sentences
 * drawn with a fixed seed from a Zipf-distributed vocabulary of real common words and made-up ones,
 * with public-domain prose lines, chapter headings and numbers mixed in. ASCII only, so every
 * reasonable definition of "letters" agrees on the word count. {@code DemoCorpusTest} checks that
 * the bundled file is exactly what this class generates.
 *
 * <p>Regenerate: {@code java -cp launcher/target/test-classes io.sluice.launcher.CorpusGenerator
 * launcher/src/main/resources/demo/corpus.txt.gz}
 */
public final class CorpusGenerator {
  static final int LINES = 52_000;
  private static final long SEED = 20_240_611L;

  private static final String[] COMMON =
      ("the of and to a in that it is was he for on are as with his they at be this have from or one"
              + " had by word but not what all were we when your can said there use an each which she do"
              + " how their if will up other about out many then them these so some her would make like him"
              + " into time has look two more write go see number no way could people my than first water"
              + " been call who oil its now find long down day did get come made may part over new sound"
              + " take only little work know place year live me back give most very after thing our just"
              + " name good sentence man think say great where help through much before line right too mean"
              + " old any same tell boy follow came want show also around form three small set put end does"
              + " another well large must big even such because turn here why ask went men read need land"
              + " different home us move try kind hand picture again change off play spell air away animal"
              + " house point page letter mother answer found study still learn should river city sea")
          .split(" ");
  private static final String[] ONSETS = {
    "b", "bl", "br", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h", "j",
        "k",
    "l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sc", "sh", "sl", "sm", "sn", "sp", "st", "str",
        "t",
    "th", "tr", "v", "w", "wh", "y", "z", ""
  };
  private static final String[] VOWELS = {
    "a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "y"
  };
  private static final String[] CODAS = {
    "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ng", "ck", "rt", "sh", "th", "ll", "x"
  };
  private static final String[] PROSE = {
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be"
        + " in want of a wife.",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of"
        + " foolishness.",
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my"
        + " purse, I thought I would sail about a little and see the watery part of the world.",
    "Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived"
        + " in Liberty, and dedicated to the proposition that all men are created equal.",
    "Happy families are all alike; every unhappy family is unhappy in its own way.",
    "In my younger and more vulnerable years my father gave me some advice that I've been turning over"
        + " in my mind ever since.",
    "Whether I shall turn out to be the hero of my own life, or whether that station will be held by"
        + " anybody else, these pages must show.",
    "There was no possibility of taking a walk that day.",
    "The sun shone, having no alternative, on the nothing new.",
    "All this happened, more or less, in the year 1851, when the river ran high and the mill stood idle.",
    "Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing"
        + " to do.",
    "We hold these truths to be self-evident, that all men are created equal.",
  };

  private CorpusGenerator() {}

  public static void main(String[] args) throws IOException {
    Path out =
        Path.of(args.length > 0 ? args[0] : "launcher/src/main/resources/demo/corpus.txt.gz");
    Files.createDirectories(out.toAbsolutePath().getParent());
    try (OutputStream file = Files.newOutputStream(out);
        GZIPOutputStream gz = new GZIPOutputStream(file, 1 << 16);
        Writer w = new OutputStreamWriter(gz, StandardCharsets.US_ASCII)) {
      w.write(generate());
    }
    System.out.println("wrote " + out + " (" + Files.size(out) + " bytes)");
  }

  /** The whole corpus; the same text on every call and every JVM. */
  static String generate() {
    Random random = new Random(SEED);
    String[] vocabulary = vocabulary(random, 3_000);
    double[] cumulative = zipf(vocabulary.length, 1.05);
    StringBuilder text = new StringBuilder(3_400_000);
    int chapter = 0;
    for (int line = 0; line < LINES; line++) {
      if (line % 2_000 == 0) {
        text.append("CHAPTER ").append(roman(++chapter)).append('\n');
      } else if (line % 487 == 0) {
        text.append(PROSE[(line / 487) % PROSE.length]).append('\n');
      } else if (random.nextInt(40) == 0) {
        text.append('\n');
      } else {
        sentence(text, random, vocabulary, cumulative);
        if (random.nextInt(8) == 0) {
          text.append(' ');
          sentence(text, random, vocabulary, cumulative);
        }
        text.append('\n');
      }
    }
    return text.toString();
  }

  private static void sentence(StringBuilder text, Random random, String[] vocab, double[] cum) {
    int words = 3 + random.nextInt(8);
    for (int i = 0; i < words; i++) {
      String word = vocab[pick(cum, random.nextDouble())];
      if (i == 0) {
        text.append(Character.toUpperCase(word.charAt(0))).append(word, 1, word.length());
      } else {
        text.append(' ');
        if (random.nextInt(60) == 0) {
          text.append(1 + random.nextInt(1999)).append(' ');
        }
        text.append(word);
        if (i < words - 1 && random.nextInt(12) == 0) {
          text.append(random.nextInt(3) == 0 ? ";" : ",");
        }
      }
    }
    text.append(".?!".charAt(random.nextInt(10) < 8 ? 0 : 1 + random.nextInt(2)));
  }

  private static String[] vocabulary(Random random, int made) {
    Set<String> words = new LinkedHashSet<>(List.of(COMMON));
    List<String> invented = new ArrayList<>();
    while (invented.size() < made) {
      StringBuilder w = new StringBuilder();
      int syllables = random.nextInt(4) == 0 ? 3 : 1 + random.nextInt(2);
      for (int s = 0; s < syllables; s++) {
        w.append(ONSETS[random.nextInt(ONSETS.length)])
            .append(VOWELS[random.nextInt(VOWELS.length)]);
        w.append(CODAS[random.nextInt(CODAS.length)]);
      }
      if (w.length() > 1 && words.add(w.toString())) {
        invented.add(w.toString());
      }
    }
    return words.toArray(String[]::new);
  }

  private static double[] zipf(int n, double exponent) {
    double[] cumulative = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += 1 / Math.pow(i + 1, exponent);
      cumulative[i] = sum;
    }
    for (int i = 0; i < n; i++) {
      cumulative[i] /= sum;
    }
    return cumulative;
  }

  private static int pick(double[] cumulative, double u) {
    int i = Arrays.binarySearch(cumulative, u);
    return Math.min(i >= 0 ? i : -i - 1, cumulative.length - 1);
  }

  private static String roman(int n) {
    int[] values = {40, 10, 9, 5, 4, 1};
    String[] symbols = {"XL", "X", "IX", "V", "IV", "I"};
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < values.length; i++) {
      for (; n >= values[i]; n -= values[i]) {
        sb.append(symbols[i]);
      }
    }
    return sb.toString();
  }
}
