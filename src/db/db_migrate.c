/* db_migrate.c - schema migrations: ordered, recorded, and serialised by an advisory lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "woodctl/log.h"

/* One lock for every woodctl migration in a database (ASCII "wdmigr"): components
 * sharing a database also share types such as woodtype, so they take turns too. */
#define LOCK_SQL "SELECT pg_advisory_lock(131376224987506)"
#define UNLOCK_SQL "SELECT pg_advisory_unlock(131376224987506)"

static const char create_sql[] = "CREATE TABLE IF NOT EXISTS wd_migrations ("
                                 " component text NOT NULL,"
                                 " version integer NOT NULL,"
                                 " name text NOT NULL,"
                                 " applied_at timestamptz NOT NULL DEFAULT now(),"
                                 " PRIMARY KEY (component, version))";

static int check_list(const char *component, const struct wd_db_migration *list, size_t n)
{
	if (!component || !*component)
		return wd_fail(WD_EINVAL, "cannot migrate: no component name");
	for (size_t i = 0; i < n; i++) {
		const struct wd_db_migration *m = &list[i];
		if (m->version <= 0 || !m->name || !m->sql ||
		    (i && m->version <= list[i - 1].version))
			return wd_fail(WD_EINVAL,
			               "cannot migrate '%s': entry %zu must have a version above "
			               "the previous one, a name and SQL",
			               component, i);
	}
	return 0;
}

static bool applied(const struct wd_db_result *r, int version)
{
	for (int i = 0; i < wd_db_nrows(r); i++) {
		int64_t v;
		if (!wd_db_get_int(r, i, 0, &v) && v == version)
			return true;
	}
	return false;
}

static int apply(struct wd_db_conn *c, const char *component, const struct wd_db_migration *m)
{
	char version[16];
	snprintf(version, sizeof(version), "%d", m->version);
	const char *params[] = {component, version, m->name};
	int rc = wd_db_begin(c, NULL);
	if (!rc)
		rc = db_conn_script(c, m->sql);
	if (!rc)
		rc = wd_db_conn_exec(c,
		                     "INSERT INTO wd_migrations (component, version, name) "
		                     "VALUES ($1, $2, $3)",
		                     3, params, NULL);
	if (!rc)
		rc = wd_db_commit(c);
	if (rc) {
		struct wd_db_error e = *wd_db_last_error();
		wd_db_rollback(c);
		struct wd_log_field f[] = {WD_LF_S("sqlstate", e.sqlstate)};
		wd_logf(WD_LOG_ERROR, "db", f, 1, "cannot apply migration %s/%d '%s': %s",
		        component, m->version, m->name, e.message);
		return rc;
	}
	struct wd_log_field f[] = {WD_LF_S("component", component), WD_LF_I("version", m->version)};
	wd_logf(WD_LOG_INFO, "db", f, 2, "applied migration %s/%d '%s'", component, m->version,
	        m->name);
	return 0;
}

int wd_db_migrate(struct wd_db *db, const char *component, const struct wd_db_migration *list,
                  size_t n)
{
	struct wd_db_conn *c = NULL;
	struct wd_db_result *done = NULL;
	bool locked = false;
	int rc = check_list(component, list, n);
	if (rc)
		return rc;
	rc = wd_db_acquire(db, &c);
	if (rc)
		goto out;
	rc = wd_db_conn_exec(c, LOCK_SQL, 0, NULL, NULL);
	if (rc)
		goto out;
	locked = true;
	rc = db_conn_script(c, create_sql);
	if (rc)
		goto out;
	const char *params[] = {component};
	rc = wd_db_conn_query(c, "SELECT version FROM wd_migrations WHERE component = $1", 1,
	                      params, &done);
	if (rc)
		goto out;
	for (size_t i = 0; i < n && !rc; i++)
		if (!applied(done, list[i].version))
			rc = apply(c, component, &list[i]);
out:
	if (rc && rc != WD_EINVAL)
		wd_logf(WD_LOG_ERROR, "db", NULL, 0, "cannot migrate '%s': %s (%s)", component,
		        wd_db_strerror(rc), wd_db_last_error()->message);
	if (locked) {
		/* A lost connection releases the lock on the server's side by itself. */
		struct wd_db_error keep = *wd_db_last_error();
		wd_db_conn_exec(c, UNLOCK_SQL, 0, NULL, NULL);
		db_restore_error(&keep);
	}
	wd_db_result_free(done);
	wd_db_release(c);
	return rc;
}
