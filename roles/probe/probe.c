/* probe.c - a health probe for containers: `woodctl probe URL`.
 *
 * Sends:    one GET to URL (5 s timeout, no retry, redirects not followed).
 * Prints:   one line: "probe: 200 OK http://host:port/health", or why it failed.
 * Exits:    0 when the answer is 2xx, 1 otherwise (refused, timeout, other status),
 *           2 when URL is missing or not an http(s) URL.
 * Used as:  the HEALTHCHECK of every HTTP-serving container, e.g.
 *           `woodctl probe http://127.0.0.1:5000/health`.
 */
#include <stdio.h>

#include "woodctl/buf.h"
#include "woodctl/cfg.h"
#include "woodctl/http.h"
#include "woodctl/http_client.h"
#include "woodctl/role.h"

const struct wd_cfg_var probe_cfg[] = {
    WD_CFG_END,
};

int probe_main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: woodctl probe URL   (exit 0 when URL answers 2xx)\n");
		return WD_EXIT_CONFIG;
	}
	struct wd_buf shown = WD_BUF_INIT;
	wd_http_url_redact(argv[1], &shown);
	struct wd_http_call call = {.method = "GET", .url = argv[1]};
	struct wd_http_resp resp = WD_HTTP_RESP_INIT;
	int rc = wd_http_call(&call, &resp);
	int code;
	if (rc == WD_EINVAL) {
		printf("probe: cannot probe '%s': %s\n", shown.ptr, resp.error);
		code = WD_EXIT_CONFIG;
	} else if (rc) {
		printf("probe: %s unreachable: %s\n", shown.ptr, resp.error);
		code = 1;
	} else {
		printf("probe: %d %s %s\n", resp.status, wd_http_reason(resp.status), shown.ptr);
		code = resp.status >= 200 && resp.status < 300 ? 0 : 1;
	}
	fflush(stdout);
	wd_http_resp_release(&resp);
	wd_buf_release(&shown);
	return code;
}
