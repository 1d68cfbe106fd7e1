/* agent_question.c - reads a time range out of a question, so agents work without an LLM. */
#include "woodctl/agent.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* One table of unit words, English and French, so a new spelling is one line. */
static const struct {
	const char *word;
	long seconds;
} units[] = {
    {"s", 1},       {"sec", 1},      {"secs", 1},     {"second", 1},    {"seconds", 1},
    {"seconde", 1}, {"secondes", 1}, {"m", 60},       {"min", 60},      {"mins", 60},
    {"minute", 60}, {"minutes", 60}, {"h", 3600},     {"hr", 3600},     {"hrs", 3600},
    {"hour", 3600}, {"hours", 3600}, {"heure", 3600}, {"heures", 3600}, {"d", 86400},
    {"day", 86400}, {"days", 86400}, {"jour", 86400}, {"jours", 86400},
};

/* Words that may sit between a number and its unit ("10 dernières minutes"). */
static const char *const fillers[] = {"dernières", "derniers", "dernière", "dernier"};

static int is_word_char(unsigned char c)
{
	/* Bytes >= 0x80 are parts of UTF-8 letters such as "è". */
	return isalnum(c) || c >= 0x80;
}

/* Length of the word at p, or 0. */
static size_t word_len(const char *p)
{
	size_t n = 0;
	while (p[n] && is_word_char((unsigned char)p[n]) && !isdigit((unsigned char)p[n]))
		n++;
	return n;
}

static long unit_seconds(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].word) == n && !strncasecmp(units[i].word, p, n))
			return units[i].seconds;
	return 0;
}

static int is_filler(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof fillers / sizeof fillers[0]; i++)
		if (strlen(fillers[i]) == n && !strncasecmp(fillers[i], p, n))
			return 1;
	return 0;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

long wd_agent_question_range_s(const char *q)
{
	if (!q)
		return 0;
	for (const char *p = q; *p; p++) {
		if (p > q && is_word_char((unsigned char)p[-1]))
			continue;
		if (isdigit((unsigned char)*p)) {
			char *end;
			long n = strtol(p, &end, 10);
			const char *w = skip_space(end);
			size_t len = word_len(w);
			if (len && is_filler(w, len)) {
				w = skip_space(w + len);
				len = word_len(w);
			}
			long unit = len ? unit_seconds(w, len) : 0;
			if (unit && n > 0 && !is_word_char((unsigned char)w[len]))
				return n * unit;
			continue;
		}
		/* "past hour", "last minute", "la dernière heure": one unit. */
		size_t len = word_len(p);
		if ((len == 4 && (!strncasecmp(p, "last", 4) || !strncasecmp(p, "past", 4))) ||
		    is_filler(p, len)) {
			const char *w = skip_space(p + len);
			size_t wl = word_len(w);
			long unit = wl > 1 ? unit_seconds(w, wl) : 0;
			if (unit && !is_word_char((unsigned char)w[wl]))
				return unit;
		}
	}
	return 0;
}
