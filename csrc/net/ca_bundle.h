/* Where CA certificates are when libcurl's compiled-in bundle is not there.
 *
 * libcurl looks for its CA bundle at the path of the machine it was built on
 * (Debian: /etc/ssl/certs/ca-certificates.crt). The wheel and the npm package
 * carry that libcurl to other distributions, which keep the bundle elsewhere
 * (RHEL and Fedora: /etc/pki/tls/certs/ca-bundle.crt): without this, every
 * verified HTTPS request would fail there. */
#ifndef VX_NET_CA_BUNDLE_H
#define VX_NET_CA_BUNDLE_H

/* The bundle to give CURLOPT_CAINFO when the request names none: NULL when
 * libcurl's own default exists (or it has none), else the first bundle of
 * the usual system locations that exists, else NULL. Computed once;
 * thread-safe. */
const char *vx_ca_bundle_fallback(void);

/* The choice itself, for tests: NULL when `compiled` is NULL or readable,
 * else the first readable path of the NULL-terminated `candidates`. */
const char *vx_ca_bundle_pick(const char *compiled, const char *const *candidates);

#endif
