package io.sluice.store;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Objects;

/**
 * Whose jobs a read or an operator action may touch: one tenant's, or every tenant's (an admin
 * token). Each store query that takes a scope puts it in its {@code WHERE} clause as {@code
 * (?::text IS NULL OR tenant = ?::text)}, bound by {@link #bind}, so nothing outside the scope is
 * ever read.
 */
public final class TenantScope {
  /** Every tenant: what an admin token sees. */
  public static final TenantScope ALL = new TenantScope(null);

  private final String tenant;

  private TenantScope(String tenant) {
    this.tenant = tenant;
  }

  /** Only {@code tenant}'s jobs. */
  public static TenantScope of(String tenant) {
    return new TenantScope(Objects.requireNonNull(tenant, "tenant"));
  }

  /** Binds the scope's two parameters of the predicate above at {@code index} and the next. */
  void bind(PreparedStatement ps, int index) throws SQLException {
    ps.setString(index, tenant);
    ps.setString(index + 1, tenant);
  }

  @Override
  public String toString() {
    return tenant == null ? "all tenants" : "tenant " + tenant;
  }
}
