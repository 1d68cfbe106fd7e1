/* agent.h - what the agent roles share: understanding a question without an LLM. */
#ifndef WOODCTL_AGENT_H
#define WOODCTL_AGENT_H

/*
 * Finds a time range written in a question and returns its length in seconds, or 0 when
 * the question names none (the caller then keeps the request's time_range).
 * Understood: "last 5 minutes", "past hour", "last 2 hours", "5m", "1h", "30s", "2d",
 * and French "les 10 dernières minutes", "la dernière heure". Words are matched on word
 * boundaries, case-insensitively. Pure; any thread.
 */
long wd_agent_question_range_s(const char *question);

#endif
