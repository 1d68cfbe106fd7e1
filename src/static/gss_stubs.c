/* gss_stubs.c - stands in for MIT GSSAPI in the static build only.
 *
 * Debian ships no static MIT Kerberos archives, yet libpq, libcurl and Cyrus SASL (under
 * librdkafka and libldap) reference GSSAPI. In the static woodctl every GSSAPI call reports
 * GSS_S_UNAVAILABLE, so Kerberos authentication is simply not offered: libpq's default
 * gssencmode=prefer falls back to a plain connection. The dynamic build uses the real library.
 */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

/* Object identifiers with their RFC values, so nothing dereferences a null pointer. */
static gss_OID_desc oid_user_name = {10, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x01"};
static gss_OID_desc oid_hostbased = {10, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04"};
static gss_OID_desc oid_sasl_ssf = {11, "\x2b\x06\x01\x04\x01\xa9\x4a\x13\x04\x01\x0f"};
static gss_OID_desc oid_no_ci = {11, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x05\x06"};
gss_OID GSS_C_NT_USER_NAME = &oid_user_name;
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &oid_hostbased;
gss_OID GSS_C_SEC_CONTEXT_SASL_SSF = &oid_sasl_ssf;
const gss_OID GSS_KRB5_CRED_NO_CI_FLAGS_X = &oid_no_ci;

#define UNAVAILABLE(minor)                \
	do {                              \
		if (minor)                \
			*(minor) = 0;     \
		return GSS_S_UNAVAILABLE; \
	} while (0)
#define DONE(minor)                    \
	do {                           \
		if (minor)             \
			*(minor) = 0;  \
		return GSS_S_COMPLETE; \
	} while (0)

OM_uint32 gss_accept_sec_context(OM_uint32 *m, gss_ctx_id_t *a, gss_cred_id_t b, gss_buffer_t c,
                                 gss_channel_bindings_t d, gss_name_t *e, gss_OID *f,
                                 gss_buffer_t g, OM_uint32 *h, OM_uint32 *i, gss_cred_id_t *j)
{
	(void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g, (void)h, (void)i, (void)j;
	UNAVAILABLE(m);
}

OM_uint32 gss_acquire_cred(OM_uint32 *m, gss_name_t a, OM_uint32 b, gss_OID_set c,
                           gss_cred_usage_t d, gss_cred_id_t *e, gss_OID_set *f, OM_uint32 *g)
{
	(void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g;
	UNAVAILABLE(m);
}

OM_uint32 gss_canonicalize_name(OM_uint32 *m, const gss_name_t a, const gss_OID b, gss_name_t *c)
{
	(void)a, (void)b, (void)c;
	UNAVAILABLE(m);
}

OM_uint32 gss_compare_name(OM_uint32 *m, gss_name_t a, gss_name_t b, int *c)
{
	(void)a, (void)b;
	if (c)
		*c = 0;
	UNAVAILABLE(m);
}

OM_uint32 gss_delete_sec_context(OM_uint32 *m, gss_ctx_id_t *a, gss_buffer_t b)
{
	(void)a, (void)b;
	DONE(m);
}

OM_uint32 gss_display_name(OM_uint32 *m, gss_name_t a, gss_buffer_t b, gss_OID *c)
{
	(void)a, (void)b, (void)c;
	UNAVAILABLE(m);
}

OM_uint32 gss_display_status(OM_uint32 *m, OM_uint32 a, int b, gss_OID c, OM_uint32 *d,
                             gss_buffer_t e)
{
	(void)a, (void)b, (void)c;
	if (d)
		*d = 0;
	if (e) {
		e->length = 0;
		e->value = NULL;
	}
	UNAVAILABLE(m);
}

OM_uint32 gss_import_name(OM_uint32 *m, gss_buffer_t a, gss_OID b, gss_name_t *c)
{
	(void)a, (void)b, (void)c;
	UNAVAILABLE(m);
}

OM_uint32 gss_init_sec_context(OM_uint32 *m, gss_cred_id_t a, gss_ctx_id_t *b, gss_name_t c,
                               gss_OID d, OM_uint32 e, OM_uint32 f, gss_channel_bindings_t g,
                               gss_buffer_t h, gss_OID *i, gss_buffer_t j, OM_uint32 *k,
                               OM_uint32 *l)
{
	(void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g, (void)h, (void)i, (void)j;
	(void)k, (void)l;
	UNAVAILABLE(m);
}

OM_uint32 gss_inquire_context(OM_uint32 *m, gss_ctx_id_t a, gss_name_t *b, gss_name_t *c,
                              OM_uint32 *d, gss_OID *e, OM_uint32 *f, int *g, int *h)
{
	(void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g, (void)h;
	UNAVAILABLE(m);
}

OM_uint32 gss_inquire_sec_context_by_oid(OM_uint32 *m, const gss_ctx_id_t a, const gss_OID b,
                                         gss_buffer_set_t *c)
{
	(void)a, (void)b, (void)c;
	UNAVAILABLE(m);
}

OM_uint32 gss_release_buffer(OM_uint32 *m, gss_buffer_t a)
{
	(void)a;
	DONE(m);
}

OM_uint32 gss_release_buffer_set(OM_uint32 *m, gss_buffer_set_t *a)
{
	(void)a;
	DONE(m);
}

OM_uint32 gss_release_cred(OM_uint32 *m, gss_cred_id_t *a)
{
	(void)a;
	DONE(m);
}

OM_uint32 gss_release_name(OM_uint32 *m, gss_name_t *a)
{
	(void)a;
	DONE(m);
}

OM_uint32 gss_set_cred_option(OM_uint32 *m, gss_cred_id_t *a, const gss_OID b, const gss_buffer_t c)
{
	(void)a, (void)b, (void)c;
	UNAVAILABLE(m);
}

OM_uint32 gss_unwrap(OM_uint32 *m, gss_ctx_id_t a, gss_buffer_t b, gss_buffer_t c, int *d,
                     gss_qop_t *e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	UNAVAILABLE(m);
}

OM_uint32 gss_wrap(OM_uint32 *m, gss_ctx_id_t a, int b, gss_qop_t c, gss_buffer_t d, int *e,
                   gss_buffer_t f)
{
	(void)a, (void)b, (void)c, (void)d, (void)e, (void)f;
	UNAVAILABLE(m);
}

OM_uint32 gss_wrap_size_limit(OM_uint32 *m, gss_ctx_id_t a, int b, gss_qop_t c, OM_uint32 d,
                              OM_uint32 *e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	UNAVAILABLE(m);
}

OM_uint32 krb5_gss_register_acceptor_identity(const char *a)
{
	(void)a;
	return GSS_S_UNAVAILABLE;
}
