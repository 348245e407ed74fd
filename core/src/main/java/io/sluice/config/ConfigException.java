package io.sluice.config;

import io.sluice.SluiceException;

/**
 * A configuration value that is missing or wrong; the message names the setting, value and why. The
 * value is shown through {@link Redact#value}: a secret setting's value never, a URL's credentials
 * and password parameters masked.
 */
public final class ConfigException extends SluiceException {
  public ConfigException(String setting, String value, String why) {
    super(setting + (value == null ? "" : "=" + Redact.value(setting, value)) + ": " + why);
  }
}
