/* gnutls_noinit.c - keeps GnuTLS from initialising itself in the static build.
 *
 * GnuTLS is linked only because libcurl's RTMP and LDAP handlers (librtmp, libldap) refer
 * to it; woodctl speaks neither, and its TLS goes through OpenSSL. Yet GnuTLS runs its
 * whole global initialisation from a constructor in every process that contains it: CPU
 * feature probing, the crypto back-end tables, the system priority file. In the static
 * binary that was 1.7 MB of peak RSS for `woodctl help` (3.9 MB -> 2.2 MB measured with
 * /usr/bin/time -f %M). GnuTLS asks the application whether to skip that implicit start
 * through this weak hook; saying yes leaves an explicit gnutls_global_init() working as
 * before, should anything ever call it. The dynamic build keeps the library's default.
 */

int _gnutls_global_init_skip(void);

int _gnutls_global_init_skip(void)
{
	return 1;
}
