/* version.c - build identity, compiled on every build so that it stays true. */
#include "woodctl/version.h"

const char wd_version[] = WD_VERSION;
const char wd_git_commit[] = WD_GIT_COMMIT;
const char wd_build_date[] = WD_BUILD_DATE;
