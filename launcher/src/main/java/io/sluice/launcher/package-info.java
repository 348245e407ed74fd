/**
 * The {@code ./sluice} command line: {@link io.sluice.launcher.Main} dispatches to the subcommands.
 * Only {@code Main} is public; everything else is the launcher's inside.
 */
package io.sluice.launcher;
