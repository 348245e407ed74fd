package io.sluice.coordinator;

import io.sluice.store.TenantScope;

/**
 * Who sent an authenticated request: the tenant its token names, and whether it is an admin token
 * ({@code SLUICE_ADMIN_TOKENS}), which reads and requeues the jobs of every tenant. A caller's own
 * submissions belong to its tenant, admin or not.
 */
record Caller(String tenant, boolean admin) {
  /** The jobs this caller may read. */
  TenantScope scope() {
    return admin ? TenantScope.ALL : TenantScope.of(tenant);
  }

  /** How the event log names the caller. */
  String describe() {
    return admin ? "admin " + tenant : tenant;
  }
}
