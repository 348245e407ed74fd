package io.sluice.worker;

import io.sluice.health.LoopSupervisor;

/**
 * A worker loop run by the {@link LoopSupervisor}: {@link #loop()} holds the body and calls {@link
 * #beat()} on every turn. Tests may call {@link #loop()} directly, unsupervised.
 */
abstract class SupervisedBody implements LoopSupervisor.Body {
  private volatile LoopSupervisor.Loop self;

  @Override
  public final void run(LoopSupervisor.Loop self) {
    this.self = self;
    loop();
  }

  abstract void loop();

  final void beat() {
    LoopSupervisor.Loop current = self;
    if (current != null) {
      current.beat();
    }
  }
}
