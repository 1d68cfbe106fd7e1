/* http_int.h - what the HTTP server and client cores share; never included by roles. */
#ifndef WOODCTL_HTTP_INT_H
#define WOODCTL_HTTP_INT_H

#include "woodctl/buf.h"
#include "woodctl/http.h"
#include "woodctl/wd.h"

/*
 * Decodes percent-escapes of src[0..n) into a new string. plus_space turns '+' into a
 * space (query strings). Returns WD_EINVAL (and *out NULL) for a '%' not followed by two
 * hex digits, and for a decoded NUL, CR or LF: no handler ever sees those bytes.
 */
int wd_http_pct_decode(const char *src, size_t n, bool plus_space, char **out);

/* Why a path was refused before routing, as the {"error"} text of a 400; NULL when the
 * path is acceptable. Checked: percent-encoding, NUL/CR/LF, encoded '/' and '\\' in a
 * segment, and "." or ".." segments (raw or encoded), so a parameter can never carry a
 * path that walks out of where it was meant to point. */
const char *wd_http_path_problem(const char *raw_path);

/* The outcome of matching one route template against a request path. */
struct wd_http_match {
	int nparams;
	const char *names[WD_HTTP_MAX_PARAMS]; /* borrowed from the template */
	size_t name_lens[WD_HTTP_MAX_PARAMS];
	char *values[WD_HTTP_MAX_PARAMS]; /* decoded, owned */
	int literals;                     /* literal segments: the more, the better */
};

/*
 * Matches a template such as "/orders/{id}" against a raw path that passed
 * wd_http_path_problem. One trailing slash on the path is ignored ("/orders/" matches
 * "/orders"). Returns true on a match and fills m (release with wd_http_match_release).
 */
bool wd_http_match_path(const char *tmpl, const char *raw_path, struct wd_http_match *m);
void wd_http_match_release(struct wd_http_match *m);

#endif
