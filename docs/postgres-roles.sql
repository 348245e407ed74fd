-- Sluice's runtime role: reads and writes rows, changes no schema.
--
-- Run as a superuser (or a role with CREATEROLE that is a member of the owner role), connected to
-- Sluice's database, once; it is safe before or after the migrations:
--
--   psql -v ON_ERROR_STOP=1 -d sluice \
--        -v owner_role=sluice_owner -v app_role=sluice_app -v app_password='…' \
--        -f docs/postgres-roles.sql
--
-- owner_role owns the schema and runs the migrations (./sluice migrate, or the compose `migrate`
-- service, with SLUICE_MIGRATE_DATABASE_USER=owner_role). Coordinators and workers then connect as
-- app_role, coordinators with SLUICE_MIGRATE=false. The default privileges below give app_role
-- access to the tables and sequences of migrations that run later, so an upgrade needs no new
-- grants.
--
-- Each statement is one line ending in ';': e2e's PostgresRuntimeRoleIT runs this very file.

CREATE ROLE :"app_role" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;

-- PostgreSQL before 15 lets every role create objects in schema public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app_role";

-- What exists now.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO :"app_role";

-- What the owner's later migrations create.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public GRANT USAGE ON SEQUENCES TO :"app_role";
