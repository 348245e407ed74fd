package io.sluice.config;

import io.sluice.SluiceException;

/** A configuration value that is missing or wrong; the message names the setting, value and why. */
public final class ConfigException extends SluiceException {
  public ConfigException(String setting, String value, String why) {
    super(setting + (value == null ? "" : "=" + value) + ": " + why);
  }
}
