/* up.h - what the parts of `woodctl up` share (private to roles/up). */
#ifndef WOODCTL_UP_H
#define WOODCTL_UP_H

#include "woodctl/buf.h"
#include "woodctl/wd.h"

struct up_opts {
	const char *roles[7]; /* business roles to run, NULL where not wanted */
	const char *error_rate;
	const char *interval;
	const char *keep_dir;
	int64_t status_every_ms;
};

/* Runs everything until a stop is requested; returns the exit code. */
int up_run(const struct up_opts *o);

/* A throwaway PostgreSQL in dir (created, owned by the server's user). */
struct up_pg {
	char bindir[256];
	char dir[512];
	int port;
	bool started;
};
/* Finds the server binaries; WD_ENOENT (with a message naming the package) if missing. */
int up_pg_find(struct up_pg *pg);
/* initdb + start + the two databases; url receives the base URL without a database. */
int up_pg_start(struct up_pg *pg, const char *dir, int port, char *url, size_t urlsz);
void up_pg_stop(struct up_pg *pg);

/* A free TCP port on 127.0.0.1: want if it is free, else one the kernel picks. */
int up_free_port(int want);

#endif
