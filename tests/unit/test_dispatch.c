/* test_dispatch.c - the role table: sorted, unique, and in step with the roles/ folders. */
#include <dirent.h>

#include "unit.h"
#include "woodctl/role.h"

TEST(roles_sorted_and_unique)
{
	for (size_t i = 1; i < wd_roles_count; i++)
		if (strcmp(wd_roles[i - 1].name, wd_roles[i].name) >= 0)
			unit_fail(__FILE__, __LINE__, "'%s' before '%s'", wd_roles[i - 1].name,
			          wd_roles[i].name);
	for (size_t i = 0; i < wd_roles_count; i++) {
		ASSERT_TRUE(wd_roles[i].main != NULL);
		ASSERT_TRUE(wd_roles[i].summary && *wd_roles[i].summary);
		if (wd_roles[i].alias)
			EXPECT_TRUE(wd_role_find(wd_roles[i].alias) == &wd_roles[i]);
	}
}

TEST(every_role_folder_has_a_table_line_and_back)
{
	DIR *d = opendir(WD_SRCDIR "/roles");
	ASSERT_TRUE(d != NULL);
	size_t folders = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		folders++;
		if (!wd_role_find(e->d_name))
			unit_fail(__FILE__, __LINE__, "roles/%s has no table line", e->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < wd_roles_count; i++) {
		char path[512];
		snprintf(path, sizeof(path), WD_SRCDIR "/roles/%s/%s.c", wd_roles[i].name,
		         wd_roles[i].name);
		FILE *f = fopen(path, "r");
		if (!f)
			unit_fail(__FILE__, __LINE__, "table line '%s' has no %s", wd_roles[i].name,
			          path);
		else
			fclose(f);
		EXPECT_TRUE(*wd_role_about(wd_roles[i].name) != '\0');
	}
	EXPECT_INT(folders, wd_roles_count);
}

TEST(role_find)
{
	const char *seed[] = {
	    "customer",   "supplier",      "ordercheck",      "suppliercheck",
	    "order",      "stock",         "ordermanagement", "agent-orchestrator",
	    "agent-logs", "agent-metrics", "agent-traces",    "agents-ui"};
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		const struct wd_role *r = wd_role_find(seed[i]);
		ASSERT_TRUE(r != NULL);
		EXPECT_STR(r->name, seed[i]);
	}
	EXPECT_STR(wd_role_find("agent-ui")->name, "agents-ui");
	EXPECT_TRUE(wd_role_find("nosuch") == NULL);
	EXPECT_TRUE(wd_role_find("") == NULL);
	EXPECT_TRUE(wd_role_find(NULL) == NULL);
	EXPECT_TRUE(wd_role_find("ORDER") == NULL);
}
