/* test_agent_question.c - time ranges read out of questions, English and French. */
#include "unit.h"
#include "woodctl/agent.h"

TEST(agent_range_english)
{
	EXPECT_INT(wd_agent_question_range_s("errors in the last 5 minutes?"), 300);
	EXPECT_INT(wd_agent_question_range_s("slow requests over the past hour"), 3600);
	EXPECT_INT(wd_agent_question_range_s("Last 2 Hours of stock"), 7200);
	EXPECT_INT(wd_agent_question_range_s("latency 5m"), 300);
	EXPECT_INT(wd_agent_question_range_s("what about 1h"), 3600);
}

TEST(agent_range_french)
{
	EXPECT_INT(wd_agent_question_range_s("les 10 dernières minutes"), 600);
	EXPECT_INT(wd_agent_question_range_s("erreurs de la dernière heure"), 3600);
}

TEST(agent_range_word_boundaries)
{
	/* Order ids and words that merely contain a unit are not time ranges. */
	EXPECT_INT(wd_agent_question_range_s("order 5mx failed"), 0);
	EXPECT_INT(wd_agent_question_range_s("order ab5m"), 0);
	EXPECT_INT(wd_agent_question_range_s("what is the last order"), 0);
	EXPECT_INT(wd_agent_question_range_s(NULL), 0);
	EXPECT_INT(wd_agent_question_range_s(""), 0);
}
