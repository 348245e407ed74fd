package io.sluice.launcher;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arguments of one subcommand: {@code --name value}, {@code --name=value}, boolean {@code
 * --flag}s and positional values. Unknown options are errors, so a typo never silently does the
 * default.
 */
final class Args {
  private final Map<String, String> options = new HashMap<>();
  private final List<String> positional = new ArrayList<>();

  private Args() {}

  /**
   * @param args the arguments after the subcommand
   * @param valued option names that take a value
   * @param flags option names that take none
   */
  static Args parse(List<String> args, Set<String> valued, Set<String> flags) {
    Args parsed = new Args();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--") || arg.equals("--")) {
        parsed.positional.add(arg);
        continue;
      }
      int eq = arg.indexOf('=');
      String name = eq < 0 ? arg.substring(2) : arg.substring(2, eq);
      if (flags.contains(name) && eq < 0) {
        parsed.options.put(name, "true");
      } else if (valued.contains(name)) {
        if (eq >= 0) {
          parsed.options.put(name, arg.substring(eq + 1));
        } else if (i + 1 < args.size()) {
          parsed.options.put(name, args.get(++i));
        } else {
          throw LauncherException.usage("--" + name + " needs a value");
        }
      } else {
        throw LauncherException.usage("unknown option --" + name);
      }
    }
    return parsed;
  }

  boolean flag(String name) {
    return options.containsKey(name);
  }

  String value(String name) {
    return options.get(name);
  }

  String require(String name) {
    String v = options.get(name);
    if (v == null || v.isBlank()) {
      throw LauncherException.usage("--" + name + " is required");
    }
    return v;
  }

  int intValue(String name, int fallback, int min, int max) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v.replace("_", ""));
      if (n < min || n > max) {
        throw LauncherException.usage(
            "--" + name + " " + v + " must be between " + min + " and " + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw LauncherException.usage("--" + name + " " + v + " is not a whole number");
    }
  }

  List<String> positional() {
    return positional;
  }

  /** The only positional value; an error if there is none or more than one. */
  String single(String what) {
    if (positional.size() != 1) {
      throw LauncherException.usage("expected one " + what + ", got " + positional);
    }
    return positional.get(0);
  }
}
