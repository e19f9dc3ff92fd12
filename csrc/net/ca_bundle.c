#include "net/ca_bundle.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <unistd.h>

/* Where distributions keep theirs (the paths Go's crypto/x509 also tries). */
static const char *const system_bundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Arch, Gentoo */
    "/etc/pki/tls/certs/ca-bundle.crt",                  /* Fedora, RHEL 6 */
    "/etc/ssl/ca-bundle.pem",                            /* openSUSE */
    "/etc/pki/tls/cacert.pem",                           /* OpenELEC */
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* CentOS, RHEL 7+ */
    "/etc/ssl/cert.pem",                                 /* Alpine */
    NULL,
};

const char *vx_ca_bundle_pick(const char *compiled, const char *const *candidates)
{
    if (!compiled || access(compiled, R_OK) == 0)
        return NULL;
    for (size_t i = 0; candidates[i]; i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    return NULL;
}

static const char *fallback;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void choose(void)
{
    const char *compiled = NULL;
#if LIBCURL_VERSION_NUM >= 0x074600 /* 7.70: curl_version_info reports it */
    compiled = curl_version_info(CURLVERSION_NOW)->cainfo;
#endif
    fallback = vx_ca_bundle_pick(compiled, system_bundles);
}

const char *vx_ca_bundle_fallback(void)
{
    pthread_once(&once, choose);
    return fallback;
}
