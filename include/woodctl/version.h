/* version.h - the build's identity (set by the Makefile). */
#ifndef WOODCTL_VERSION_H
#define WOODCTL_VERSION_H

extern const char wd_version[];
extern const char wd_git_commit[];
extern const char wd_build_date[];

#endif
