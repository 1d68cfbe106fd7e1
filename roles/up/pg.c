/* pg.c - the throwaway PostgreSQL `woodctl up` starts when no DATABASE_URL is given. */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "up.h"
#include "woodctl/log.h"

int up_pg_find(struct up_pg *pg)
{
	/* Debian keeps server binaries off PATH, one folder per major version; take the newest. */
	DIR *d = opendir("/usr/lib/postgresql");
	int best = -1;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int v = atoi(e->d_name);
		char path[300];
		snprintf(path, sizeof(path), "/usr/lib/postgresql/%s/bin/initdb", e->d_name);
		if (v > best && access(path, X_OK) == 0)
			best = v;
	}
	if (d)
		closedir(d);
	if (best < 0)
		return wd_fail(
		    WD_ENOENT,
		    "cannot find the PostgreSQL server (initdb, pg_ctl): install it with "
		    "`apt-get install postgresql`, or set DATABASE_URL to a running server");
	snprintf(pg->bindir, sizeof(pg->bindir), "/usr/lib/postgresql/%d/bin", best);
	return 0;
}

/* Runs a PostgreSQL program, as the 'postgres' user when we are root (the server refuses
 * to run as root), with its output in dir/pg.log. */
static int run_pg(const struct up_pg *pg, char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return WD_EIO;
	if (pid == 0) {
		char log[600];
		snprintf(log, sizeof(log), "%s/pg.log", pg->dir);
		FILE *f = fopen(log, "a");
		if (f) {
			dup2(fileno(f), 1);
			dup2(fileno(f), 2);
		}
		if (geteuid() == 0) {
			struct passwd *pw = getpwnam("postgres");
			if (!pw || setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
				_exit(126);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : WD_EIO;
}

int up_pg_start(struct up_pg *pg, const char *dir, int port, char *url, size_t urlsz)
{
	snprintf(pg->dir, sizeof(pg->dir), "%s", dir);
	pg->port = port;
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");
		if (!pw)
			return wd_fail(WD_ENOENT, "cannot find the user 'postgres' to run the "
			                          "throwaway PostgreSQL as (root cannot run it)");
		if (chown(dir, pw->pw_uid, pw->pw_gid))
			return wd_fail(WD_EIO, "cannot hand '%s' to the postgres user: %s", dir,
			               strerror(errno));
	}
	char exe[300], data[600], opts[900], portstr[16];
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(exe, sizeof(exe), "%s/initdb", pg->bindir);
	char *initdb[] = {exe,     "-D", data,   "-U",          "postgres",  "-A",
	                  "trust", "-E", "UTF8", "--no-locale", "--no-sync", NULL};
	wd_info("initialising a throwaway PostgreSQL in %s", data);
	if (run_pg(pg, initdb))
		return wd_fail(WD_EIO, "initdb failed; see %s/pg.log", dir);
	snprintf(exe, sizeof(exe), "%s/pg_ctl", pg->bindir);
	snprintf(opts, sizeof(opts),
	         "-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off "
	         "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
	         port, dir);
	char logf[600];
	snprintf(logf, sizeof(logf), "%s/server.log", dir);
	char *start[] = {exe, "-D", data, "-l", logf, "-w", "-t", "30", "-o", opts, "start", NULL};
	if (run_pg(pg, start))
		return wd_fail(WD_EIO, "PostgreSQL did not start; see %s", logf);
	pg->started = true;
	/* The seed's later layout: one database per API. */
	snprintf(exe, sizeof(exe), "%s/createdb", pg->bindir);
	snprintf(portstr, sizeof(portstr), "%d", port);
	const char *dbs[] = {"order_db", "stock_db"};
	for (size_t i = 0; i < 2; i++) {
		char *create[] = {exe,  "-h",       "127.0.0.1",    "-p", portstr,
		                  "-U", "postgres", (char *)dbs[i], NULL};
		if (run_pg(pg, create))
			return wd_fail(WD_EIO, "cannot create database %s; see %s/pg.log", dbs[i],
			               dir);
	}
	snprintf(url, urlsz, "postgresql://postgres@127.0.0.1:%d", port);
	wd_info("PostgreSQL is ready on 127.0.0.1:%d (databases order_db, stock_db)", port);
	return 0;
}

void up_pg_stop(struct up_pg *pg)
{
	if (!pg->started)
		return;
	char exe[300], data[600];
	snprintf(exe, sizeof(exe), "%s/pg_ctl", pg->bindir);
	snprintf(data, sizeof(data), "%s/data", pg->dir);
	char *stop[] = {exe, "-D", data, "-m", "fast", "-w", "-t", "20", "stop", NULL};
	if (run_pg(pg, stop))
		wd_error("PostgreSQL did not stop cleanly; see %s/pg.log", pg->dir);
	pg->started = false;
}
