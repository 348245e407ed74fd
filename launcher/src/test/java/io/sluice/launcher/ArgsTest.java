package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {

  @Test
  void readsValuesFlagsAndPositionals() {
    Args args =
        Args.parse(
            List.of("--type", "noop", "--payload=-", "--wait", "id-1"),
            Set.of("type", "payload"),
            Set.of("wait"));
    assertThat(args.require("type")).isEqualTo("noop");
    assertThat(args.value("payload")).isEqualTo("-");
    assertThat(args.flag("wait")).isTrue();
    assertThat(args.single("job id")).isEqualTo("id-1");
  }

  @Test
  void unknownOptionsAndMissingValuesAreUsageErrors() {
    assertThatThrownBy(() -> Args.parse(List.of("--tsks", "5"), Set.of("tasks"), Set.of()))
        .isInstanceOf(LauncherException.class)
        .hasMessageContaining("unknown option --tsks")
        .satisfies(e -> assertThat(((LauncherException) e).exitCode()).isEqualTo(2));
    assertThatThrownBy(() -> Args.parse(List.of("--tasks"), Set.of("tasks"), Set.of()))
        .hasMessageContaining("--tasks needs a value");
  }

  @Test
  void numbersAreCheckedAgainstTheirRange() {
    Args args =
        Args.parse(
            List.of("--tasks", "50_000", "--workers", "0"), Set.of("tasks", "workers"), Set.of());
    assertThat(args.intValue("tasks", 1, 1, 1_000_000)).isEqualTo(50_000);
    assertThat(args.intValue("missing", 7, 1, 10)).isEqualTo(7);
    assertThatThrownBy(() -> args.intValue("workers", 2, 1, 64))
        .hasMessageContaining("--workers 0 must be between 1 and 64");
  }
}
