/* main.c - dispatch: `woodctl ROLE [args]`, or a link named after the role (busybox style). */
#include <stdio.h>
#include <string.h>

#include "woodctl/buf.h"
#include "woodctl/role.h"
#include "woodctl/run.h"
#include "woodctl/setup.h"
#include "woodctl/version.h"

static void list_roles(FILE *out)
{
	fprintf(out, "usage: woodctl ROLE [--help]   (or a link named after the role)\n"
	             "       woodctl help [ROLE] | version\n\nroles:\n");
	for (size_t i = 0; i < wd_roles_count; i++)
		fprintf(out, "  %-20s %s\n", wd_roles[i].name, wd_roles[i].summary);
	fprintf(out, "\n`woodctl help ROLE` shows what a role consumes, produces and serves, and "
	             "every setting it reads.\n");
}

static void role_help(const struct wd_role *r, FILE *out)
{
	fprintf(out,
	        "usage: woodctl %s [--help]\n       %s [--help]   (through a link named %s)\n\n",
	        r->name, r->name, r->name);
	fprintf(out, "%s.\n", r->summary);
	if (r->alias)
		fprintf(out, "Also answers to the name '%s'.\n", r->alias);
	fprintf(out, "\n%s", wd_role_about(r->name));
	wd_setup_help(r, out);
}

static int version(FILE *out)
{
	fprintf(out, "woodctl %s (commit %s, built %s)\n\n", wd_version, wd_git_commit,
	        wd_build_date);
	wd_setup_versions(out);
	return 0;
}

static int run_role(const struct wd_role *r, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			role_help(r, stdout);
			return 0;
		}
	}
	struct wd_buf err = WD_BUF_INIT;
	int bad = wd_setup_config(r, &err);
	if (bad) {
		fputs(err.ptr, stderr);
		fprintf(stderr, "woodctl %s: %d bad setting%s; see `woodctl help %s`\n", r->name,
		        bad, bad == 1 ? "" : "s", r->name);
		wd_buf_release(&err);
		return WD_EXIT_CONFIG;
	}
	wd_buf_release(&err);
	wd_role_current = r;
	int rc = wd_setup_start(r);
	if (rc == WD_EINVAL) {
		fprintf(stderr, "woodctl %s: bad settings; see `woodctl help %s`\n", r->name,
		        r->name);
		return WD_EXIT_CONFIG;
	}
	if (rc)
		return 1;
	int code = r->main(argc, argv);
	wd_run_shutdown();
	return code;
}

int main(int argc, char **argv)
{
	const char *self = argv[0] ? strrchr(argv[0], '/') : NULL;
	self = self ? self + 1 : (argv[0] ? argv[0] : "woodctl");
	const struct wd_role *r = wd_role_find(self);
	if (r)
		return run_role(r, argc, argv);
	if (argc < 2) {
		list_roles(stdout);
		return 0;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		if (argc < 3) {
			list_roles(stdout);
			return 0;
		}
		r = wd_role_find(argv[2]);
		if (!r) {
			fprintf(stderr, "woodctl: unknown role '%s'\n\n", argv[2]);
			list_roles(stderr);
			return WD_EXIT_UNKNOWN_ROLE;
		}
		role_help(r, stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version"))
		return version(stdout);
	r = wd_role_find(cmd);
	if (!r) {
		fprintf(stderr, "woodctl: unknown role '%s'\n\n", cmd);
		list_roles(stderr);
		return WD_EXIT_UNKNOWN_ROLE;
	}
	return run_role(r, argc - 1, argv + 1);
}
