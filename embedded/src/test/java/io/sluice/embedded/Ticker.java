package io.sluice.embedded;

/**
 * A child process for {@link ChildJvmIT}: prints its environment marker, then a tick every 20 ms.
 */
public final class Ticker {
  private Ticker() {}

  public static void main(String[] args) throws InterruptedException {
    System.out.println(
        "marker=" + System.getenv("TICKER_MARKER") + " arg=" + String.join(",", args));
    for (long i = 0; ; i++) {
      System.out.println("tick " + i);
      Thread.sleep(20);
    }
  }
}
